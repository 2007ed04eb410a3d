package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNginxRoutesLikeTheIngress runs Debian's nginx on the config generated
// from the fixture manifest, in front of stand-in backends, and checks that
// requests land where the Ingress says, with the headers ingress-nginx sends.
func TestNginxRoutesLikeTheIngress(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nginx; not with -short")
	}
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		nginx = "/usr/sbin/nginx" // not on a non-root PATH on Debian
	}
	_, statErr := os.Stat(nginx)
	requireOrSkip(t, statErr == nil, "nginx is not installed (make deps installs it)")

	// Each stand-in answers with its name and what it was sent.
	backend := func(name string) int {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{
				"backend": name, "uri": r.RequestURI, "host": r.Host,
				"xff": r.Header.Get("X-Forwarded-For"), "proto": r.Header.Get("X-Forwarded-Proto"),
			})
		}))
		t.Cleanup(srv.Close)
		return srv.Listener.Addr().(*net.TCPAddr).Port
	}
	backends := map[string]int{"auth": backend("auth"), "tickets": backend("tickets"), "payments": backend("payments"), "client": backend("client")}

	fixture, err := os.ReadFile("testdata/ingress.yaml")
	require.NoError(t, err)
	routes, err := parseIngress(fixture)
	require.NoError(t, err)
	ports, err := freePorts(1)
	require.NoError(t, err)
	dir := t.TempDir()
	conf, missing, err := renderNginx(routes, nginxSettings{port: ports[0], dir: dir, backends: backends, source: "testdata/ingress.yaml"})
	require.NoError(t, err)
	assert.Equal(t, []string{"orders"}, missing)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644))

	var out lockedBuffer
	cmd := exec.Command(nginx, nginxArgs(dir, filepath.Join(dir, "nginx.conf"))...)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 2 * time.Second // never hang on a pipe a stray child holds
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("nginx output:\n%s\nconfig:\n%s", out.String(), conf)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, waitTCP(ctx, hostPort(ports[0]), 10*time.Second))

	base := fmt.Sprintf("http://%s", hostPort(ports[0]))
	tests := []struct {
		path, wantBackend string
		wantStatus        int
	}{
		{"/api/users/currentuser", "auth", 200},
		{"/api/users", "auth", 200},
		{"/api/usersx", "client", 200}, // a Prefix path matches whole path elements
		{"/api/tickets?limit=5", "tickets", 200},
		{"/api/payments", "payments", 200},
		{"/api/orders/abc", "", 503},
		{"/", "client", 200},
		{"/tickets/abc/edit", "client", 200},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+tt.path, nil)
			require.NoError(t, err)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer func() { _ = resp.Body.Close() }()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, tt.wantStatus, resp.StatusCode, string(body))
			var got map[string]any
			require.NoError(t, json.Unmarshal(body, &got), string(body))
			if tt.wantStatus == 503 {
				assert.Equal(t, map[string]any{"errors": []any{map[string]any{"message": "orders is not running on this machine"}}}, got)
				return
			}
			assert.Equal(t, tt.wantBackend, got["backend"])
			assert.Equal(t, tt.path, got["uri"], "the path goes through unchanged")
			assert.Equal(t, strings.TrimPrefix(base, "http://"), got["host"], "the Host the browser sent, port included")
			assert.Equal(t, "127.0.0.1", got["xff"])
			assert.Equal(t, "http", got["proto"])
		})
	}
}
