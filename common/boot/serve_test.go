package boot_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/boot"
)

// logLines hands each log line to the test as it is written. Serve writes
// two or three lines, far fewer than the buffer holds, so it never blocks.
type logLines chan string

func (l logLines) Write(p []byte) (int, error) {
	l <- string(p)
	return len(p), nil
}

// infra/local and the services' tests find the port in this line.
var listeningAddr = regexp.MustCompile(`"msg":"listening".*"addr":"[^"]*:(\d+)"`)

func TestServe(t *testing.T) {
	logs := make(logLines, 64)
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- boot.Serve(ctx, 0, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, "hello")
		}), logger)
	}()

	var port string
	for port == "" {
		select {
		case line := <-logs:
			if m := listeningAddr.FindStringSubmatch(line); m != nil {
				port = m[1]
			}
		case err := <-done:
			t.Fatalf("Serve returned before listening: %v", err)
		case <-time.After(waitFor):
			t.Fatal("no listening line naming the port")
		}
	}
	res, err := http.Get("http://127.0.0.1:" + port + "/")
	require.NoError(t, err)
	body, err := io.ReadAll(res.Body)
	require.NoError(t, res.Body.Close())
	require.NoError(t, err)
	assert.Equal(t, "hello", string(body))

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(waitFor):
		t.Fatal("Serve did not return after ctx ended")
	}
}

func TestServeNamesABusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", ":0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	err = boot.Serve(t.Context(), port, http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "listen on port "+strconv.Itoa(port))
}
