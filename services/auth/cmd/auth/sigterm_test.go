package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"

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
			if m := testkit.ListeningAddr.FindStringSubmatch(sc.Text()); m != nil {
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

	// A request either reaches the server before SIGTERM closes the listener
	// or is refused; on a loaded machine some goroutines dial too late.
	// What must never happen is a request the server took on (the user is
	// stored) that gets no answer.
	const inFlight = 12
	type result struct {
		email  string
		status int
		after  bool // answered after SIGTERM was sent
	}
	var signalled atomic.Bool
	results := make(chan result, inFlight)
	for i := 0; i < inFlight; i++ {
		go func() {
			email := fmt.Sprintf("u%d@test.dev", i)
			body := fmt.Sprintf(`{"email":%q,"password":"pass1"}`, email)
			resp, err := http.Post(url+"/api/users/signup", "application/json", strings.NewReader(body))
			if err != nil {
				results <- result{email: email}
				return
			}
			resp.Body.Close()
			results <- result{email: email, status: resp.StatusCode, after: signalled.Load()}
		}()
	}
	// Once the first answer is back the rest are being hashed: stop now.
	got := []result{<-results}
	signalled.Store(true)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	stopped := time.Now()

	for i := 1; i < inFlight; i++ {
		got = append(got, <-results)
	}
	answeredAfter := 0
	for _, r := range got {
		stored, err := db.Collection("users").CountDocuments(context.Background(), bson.M{"email": r.email})
		require.NoError(t, err)
		switch r.status {
		case 0:
			assert.Zero(t, stored, "%s was stored but its request got no answer", r.email)
		default:
			assert.Equal(t, 201, r.status, r.email)
			assert.Equal(t, int64(1), stored, r.email)
			if r.after {
				answeredAfter++
			}
		}
	}
	assert.Positive(t, answeredAfter, "some requests were in flight at SIGTERM and were answered: %+v", got)

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
