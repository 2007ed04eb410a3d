package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testNginx is Debian's nginx on the config generated from the fixture
// manifest, supervised as `up` supervises it.
type testNginx struct {
	base   string // http://127.0.0.1:port
	proc   *proc
	pidDir string
	limits nginxLimits
	out    *lockedBuffer
}

// startNginx runs nginx in front of backends (service name -> port) and
// waits until it accepts connections.
func startNginx(t *testing.T, backends map[string][]int) *testNginx {
	t.Helper()
	if testing.Short() {
		t.Skip("starts nginx; not with -short")
	}
	nginx, err := findNginx()
	requireOrSkip(t, err == nil, "nginx is not installed (make deps installs it)")

	fixture, err := os.ReadFile("testdata/ingress.yaml")
	require.NoError(t, err)
	routes, err := parseIngress(fixture)
	require.NoError(t, err)
	ports, err := freePorts(1)
	require.NoError(t, err)
	want := sizeNginx(len(backends), math.MaxUint64).openFiles
	available, err := raiseOpenFileLimit(uint64(want))
	require.NoError(t, err)
	limits := sizeNginx(len(backends), available)
	dir := t.TempDir()
	conf, _, err := renderNginx(routes, nginxSettings{
		port: ports[0], dir: dir, backends: backends, source: "testdata/ingress.yaml",
		workerConnections: limits.workerConnections, openFiles: limits.openFiles, user: nginxUser(),
	})
	require.NoError(t, err)
	confPath := filepath.Join(dir, "nginx.conf")
	require.NoError(t, os.WriteFile(confPath, []byte(conf), 0o644))

	n := &testNginx{base: "http://" + hostPort(ports[0]), pidDir: t.TempDir(), limits: limits, out: &lockedBuffer{}}
	n.proc = startProc(procSpec{
		name: "nginx", path: nginx, args: nginxArgs(dir, confPath), addr: hostPort(ports[0]), group: true,
	}, n.out, slog.New(slog.NewTextHandler(n.out, nil)), n.pidDir)
	t.Cleanup(func() {
		n.proc.stop(5 * time.Second)
		if t.Failed() {
			t.Logf("nginx output:\n%s\nconfig:\n%s", n.out.String(), conf)
		}
	})
	require.NoError(t, n.proc.waitReady(context.Background(), 10*time.Second))
	return n
}

// master is the pid of nginx's master process, as the fault suite finds it.
func (n *testNginx) master(t *testing.T) int {
	t.Helper()
	return readPid(t, filepath.Join(n.pidDir, "nginx.pid"))
}

// workers are the master's children.
func (n *testNginx) workers(t *testing.T) []int {
	t.Helper()
	var pids []int
	waitFor(t, 10*time.Second, "nginx's workers", func() bool {
		m := n.master(t)
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", m, m))
		if err != nil {
			return false
		}
		pids = pids[:0]
		for _, f := range strings.Fields(string(b)) {
			p, err := strconv.Atoi(f)
			require.NoError(t, err)
			pids = append(pids, p)
		}
		return len(pids) > 0
	})
	return pids
}

// TestNginxRoutesLikeTheIngress runs nginx in front of stand-in backends and
// checks that requests land where the Ingress says, with the headers
// ingress-nginx sends, over kept-alive backend connections.
func TestNginxRoutesLikeTheIngress(t *testing.T) {
	var mu sync.Mutex
	newConns := map[string]int{}
	// Each stand-in answers with its name and what it was sent, and counts
	// the connections nginx opens to it.
	backend := func(name string) int {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{
				"backend": name, "uri": r.RequestURI, "host": r.Host,
				"xff": r.Header.Get("X-Forwarded-For"), "proto": r.Header.Get("X-Forwarded-Proto"),
				"connection": r.Header.Get("Connection"),
			})
		}))
		srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				mu.Lock()
				newConns[name]++
				mu.Unlock()
			}
		}
		srv.Start()
		t.Cleanup(srv.Close)
		return srv.Listener.Addr().(*net.TCPAddr).Port
	}
	n := startNginx(t, map[string][]int{"auth": {backend("auth")}, "tickets": {backend("tickets")}, "payments": {backend("payments")}, "client": {backend("client")}})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
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
			status, got := getJSON(t, ctx, http.DefaultClient, n.base+tt.path)
			require.Equal(t, tt.wantStatus, status, got)
			if tt.wantStatus == 503 {
				assert.Equal(t, map[string]any{"errors": []any{map[string]any{"message": "orders is not running on this machine"}}}, got)
				return
			}
			assert.Equal(t, tt.wantBackend, got["backend"])
			assert.Equal(t, tt.path, got["uri"], "the path goes through unchanged")
			assert.Equal(t, strings.TrimPrefix(n.base, "http://"), got["host"], "the Host the browser sent, port included")
			assert.Equal(t, "127.0.0.1", got["xff"])
			assert.Equal(t, "http", got["proto"])
			assert.Empty(t, got["connection"], "no Connection: close to the backend")
		})
	}

	t.Run("backend connections are kept alive", func(t *testing.T) {
		mu.Lock()
		before := newConns["tickets"]
		mu.Unlock()
		// New client connections each time, so whichever worker takes one
		// reuses what it keeps.
		const requests = 60
		for range requests {
			c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			status, got := getJSON(t, ctx, c, n.base+"/api/tickets")
			require.Equal(t, 200, status, got)
		}
		mu.Lock()
		opened := newConns["tickets"] - before
		mu.Unlock()
		t.Logf("%d requests through nginx opened %d connections to the backend", requests, opened)
		assert.LessOrEqual(t, opened, len(n.workers(t))+2, "each worker reuses its idle connections")
	})

	t.Run("workers get the open-file limit they are sized for", func(t *testing.T) {
		for _, w := range n.workers(t) {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", w))
			require.NoError(t, err)
			var soft string
			for _, line := range strings.Split(string(b), "\n") {
				if f, ok := strings.CutPrefix(line, "Max open files"); ok {
					soft = strings.Fields(f)[0]
				}
			}
			assert.Equal(t, strconv.Itoa(n.limits.openFiles), soft, "worker %d", w)
		}
		t.Logf("workers: %d connections and %d open files each (sized for %d clients; short: %v)",
			n.limits.workerConnections, n.limits.openFiles, frontClients, n.limits.short)
	})

	t.Run("kill -9 of the master leaves no worker and nginx comes back", func(t *testing.T) {
		master, workers := n.master(t), n.workers(t)
		require.NoError(t, syscall.Kill(master, syscall.SIGKILL))
		for _, w := range workers {
			waitFor(t, 10*time.Second, fmt.Sprintf("worker %d to be gone", w), func() bool {
				return errors.Is(syscall.Kill(w, 0), syscall.ESRCH) || isZombie(w)
			})
		}
		waitFor(t, 30*time.Second, "a new master", func() bool {
			b, err := os.ReadFile(filepath.Join(n.pidDir, "nginx.pid"))
			return err == nil && strings.TrimSpace(string(b)) != strconv.Itoa(master)
		})
		require.NoError(t, n.proc.waitReady(ctx, 20*time.Second))
		status, got := getJSON(t, ctx, http.DefaultClient, n.base+"/api/tickets")
		assert.Equal(t, 200, status, got)
		assert.NotContains(t, n.out.String(), "Address already in use", "the new master could bind the port")
	})
}

// getJSON GETs url and decodes the JSON object it answers.
func getJSON(t *testing.T, ctx context.Context, c *http.Client, url string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(body, &got), string(body))
	return resp.StatusCode, got
}

// tooLargeBody is the service's answer to a body over 1 MiB (CONTRACT.md §1.1).
const tooLargeBody = `{"errors":[{"message":"Request body is larger than 1 MiB"}]}`

// TestNginxLetsTheServiceRefuseLargeBodies sends 2 MiB bodies through nginx:
// the Ingress's proxy-body-size lets them through, so the answer is the
// service's JSON 413, not nginx's HTML one, and never a 502 from a service
// that answered before reading the body.
func TestNginxLetsTheServiceRefuseLargeBodies(t *testing.T) {
	backends := map[string]struct {
		port  func(t *testing.T) int
		route string
	}{
		// As httpx refuses by Content-Length, before reading anything.
		"stand-in": {port: func(t *testing.T) int {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.ContentLength > 1<<20 {
					w.Header().Set("Content-Type", "application/json; charset=utf-8")
					w.WriteHeader(http.StatusRequestEntityTooLarge)
					_, _ = io.WriteString(w, tooLargeBody)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			}))
			t.Cleanup(srv.Close)
			return srv.Listener.Addr().(*net.TCPAddr).Port
		}, route: "/api/tickets"},
		"bin/auth": {port: startAuth, route: "/api/users/signup"},
	}
	for name, b := range backends {
		t.Run(name, func(t *testing.T) {
			port := b.port(t)
			n := startNginx(t, map[string][]int{"auth": {port}, "tickets": {port}})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			big := `{"email":"` + strings.Repeat("a", 2<<20) + `"}`
			for i := range 20 {
				chunked := i%2 == 1 // no Content-Length from the client: nginx buffers and counts
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.base+b.route, strings.NewReader(big))
				require.NoError(t, err)
				req.Header.Set("Content-Type", "application/json")
				if chunked {
					req.ContentLength = -1
					req.Body = io.NopCloser(strings.NewReader(big))
				}
				start := time.Now()
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				body, err := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				require.NoError(t, err)
				took := time.Since(start)
				require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "request %d (chunked %v): %s", i, chunked, body)
				assert.JSONEq(t, tooLargeBody, string(body), "the service's answer, not nginx's page")
				assert.Less(t, took, 5*time.Second, "refused without waiting for a timeout")
				if i < 2 {
					t.Logf("2 MiB body (chunked %v) refused in %s", chunked, took)
				}
			}
		})
	}
}

// startAuth runs the built auth service on a database of its own in the
// Mongo that the environment names, and returns its port.
func startAuth(t *testing.T) int {
	t.Helper()
	bin, err := filepath.Abs(filepath.Join("..", "..", "bin", "auth"))
	require.NoError(t, err)
	_, statErr := os.Stat(bin)
	requireOrSkip(t, statErr == nil, "bin/auth is not built (make build)")
	mongoURI := os.Getenv("TEST_MONGO_URI")
	requireOrSkip(t, mongoURI != "", "TEST_MONGO_URI is not set (source the env of bin/local up --deps-only)")
	u, err := url.Parse(mongoURI)
	require.NoError(t, err)
	u.Path = "/nginxtest_" + randomHex(4)

	ports, err := freePorts(1)
	require.NoError(t, err)
	var out lockedBuffer
	cmd := exec.Command(bin)
	cmd.Env = []string{"PORT=" + strconv.Itoa(ports[0]), "MONGO_URI=" + u.String(), "JWT_KEY=test", "LOG_LEVEL=warn"}
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 2 * time.Second
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("auth output:\n%s", out.String())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, waitTCP(ctx, hostPort(ports[0]), 30*time.Second), "auth did not come up")
	return ports[0]
}

// TestNginxSpreadsOverCopiesAndPassesADeadOne runs a service as two live
// copies and one that is gone (up --replicas with a copy killed). The
// Ingress never sends a request twice (proxy-next-upstream off), so the
// request that finds the dead copy gets 502, as in a cluster before the
// dead pod leaves the endpoints; but that marks the copy down for the
// worker, so each nginx worker pays it at most once, and everything else is
// answered by a live copy, both taking a share.
func TestNginxSpreadsOverCopiesAndPassesADeadOne(t *testing.T) {
	var mu sync.Mutex
	served := map[int]int{}
	copyOf := func(i int) int {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			served[i]++
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{}`))
		}))
		t.Cleanup(srv.Close)
		return srv.Listener.Addr().(*net.TCPAddr).Port
	}
	dead, err := freePorts(1)
	require.NoError(t, err)
	n := startNginx(t, map[string][]int{"tickets": {copyOf(1), dead[0], copyOf(2)}})

	const requests = 60
	statuses := map[int]int{}
	for i := range requests {
		method := http.MethodGet
		if i%2 == 1 {
			method = http.MethodPost
		}
		req, err := http.NewRequest(method, n.base+"/api/tickets", strings.NewReader(`{}`))
		require.NoError(t, err)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = res.Body.Close()
		statuses[res.StatusCode]++
	}
	t.Logf("answers: %v", statuses)
	assert.LessOrEqual(t, statuses[http.StatusBadGateway], runtime.NumCPU(), "one 502 per nginx worker at most")
	assert.Equal(t, requests, statuses[http.StatusOK]+statuses[http.StatusBadGateway], "%v", statuses)
	mu.Lock()
	defer mu.Unlock()
	assert.Positive(t, served[1], "the first copy took requests")
	assert.Positive(t, served[2], "the second copy took requests")
	assert.Equal(t, statuses[http.StatusOK], served[1]+served[2])
}
