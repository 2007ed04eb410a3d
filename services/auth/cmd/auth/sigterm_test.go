package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/testkit"
)

// TestSIGTERMFinishesInFlightRequests runs the real binary, as a pod would,
// and stops it while sign-ups (each an scrypt hash) are being served.
func TestSIGTERMFinishesInFlightRequests(t *testing.T) {
	db := testkit.MongoDB(t)
	bin := filepath.Join(t.TempDir(), "auth")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PORT=0", "JWT_KEY=k", "MONGO_URI="+testkit.MongoURI(t, db.Name()))
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listeningAddr.FindStringSubmatch(sc.Text()); m != nil {
				addr <- "http://127.0.0.1:" + m[1]
			}
		}
	}()
	var url string
	select {
	case url = <-addr:
	case <-time.After(30 * time.Second):
		t.Fatal("auth did not start listening")
	}

	const inFlight = 12
	statuses := make(chan int, inFlight)
	for i := 0; i < inFlight; i++ {
		go func() {
			body := fmt.Sprintf(`{"email":"u%d@test.dev","password":"pass1"}`, i)
			resp, err := http.Post(url+"/api/users/signup", "application/json", strings.NewReader(body))
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	// Once the first answer is back the rest are being hashed: stop now.
	first := <-statuses
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	stopped := time.Now()

	got := []int{first}
	for i := 1; i < inFlight; i++ {
		got = append(got, <-statuses)
	}
	for _, st := range got {
		assert.Equal(t, 201, st, "every request in flight at SIGTERM is answered: %v", got)
	}

	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		assert.NoError(t, err, "exit status 0")
		assert.Less(t, time.Since(stopped), 5*time.Second)
	case <-time.After(5 * time.Second):
		t.Fatal("auth did not exit within 5 s of SIGTERM")
	}
}
