package main

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/stan.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// TestUpEphemeralDepsOnly runs the launcher as `make test` does and checks
// that every dependency answers, that a killed one comes back, and that
// SIGTERM leaves nothing behind.
func TestUpEphemeralDepsOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers; not with -short")
	}
	_, err := exec.LookPath("redis-server")
	requireOrSkip(t, err == nil, "redis-server is not on PATH (make deps installs it)")
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	binDir := filepath.Join(root, "bin")
	_, err = os.Stat(filepath.Join(binDir, "stripe-mock"))
	requireOrSkip(t, err == nil, "bin/stripe-mock is missing (make deps installs it)")

	exe := filepath.Join(t.TempDir(), "local")
	build := exec.Command("go", "build", "-o", exe, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	envFile := filepath.Join(t.TempDir(), "env")
	var out lockedBuffer
	cmd := exec.Command(exe, "up", "--ephemeral", "--deps-only", "--env-file", envFile, "--bin", binDir)
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	// exited is closed once the launcher has exited; waitErr is then how.
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill() // its children die with it (Pdeathsig)
			<-exited
		}
		if t.Failed() {
			t.Logf("launcher output:\n%s", out.String())
		}
	})

	waitFor(t, 90*time.Second, "the env file", func() bool {
		select {
		case <-exited:
			t.Fatalf("launcher exited before writing the env file: %v", waitErr)
		default:
		}
		_, err := os.Stat(envFile)
		return err == nil
	})
	env := readExports(t, envFile)
	for _, name := range []string{"TEST_MONGO_URI", "TEST_NATS_URL", "TEST_REDIS_ADDR", "TEST_REDIS_URL", "TEST_STRIPE_API_BASE", "JWT_KEY", "LOCAL_DATA_DIR"} {
		require.NotEmpty(t, env[name], name)
	}
	assert.NotContains(t, env, "AUTH_URL", "--deps-only starts no service")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	t.Run("FerretDB answers", func(t *testing.T) {
		client, err := mongo.Connect(ctx, options.Client().ApplyURI(env["TEST_MONGO_URI"]))
		require.NoError(t, err)
		defer func() { _ = client.Disconnect(context.Background()) }()
		require.NoError(t, client.Ping(ctx, nil))
		coll := client.Database("infra_local_test").Collection("things")
		_, err = coll.InsertOne(ctx, bson.M{"name": "one"})
		require.NoError(t, err)
		n, err := coll.CountDocuments(ctx, bson.M{})
		require.NoError(t, err)
		assert.EqualValues(t, 1, n)
	})

	t.Run("NATS Streaming accepts a client", func(t *testing.T) {
		sc, err := stan.Connect(natsClusterID, "infra-local-test-"+randomHex(3), stan.NatsURL(env["TEST_NATS_URL"]))
		require.NoError(t, err)
		defer func() { _ = sc.Close() }()
		require.NoError(t, sc.Publish("infra-local-test", []byte("hello")))
	})

	t.Run("Redis answers PING", func(t *testing.T) {
		require.NoError(t, redisPing(env["TEST_REDIS_ADDR"]))
	})

	t.Run("stripe-mock answers", func(t *testing.T) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, env["TEST_STRIPE_API_BASE"]+"/v1/customers", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer sk_test_123")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})

	pidDir := filepath.Join(env["LOCAL_DATA_DIR"], "pids")

	t.Run("a killed child comes back", func(t *testing.T) {
		old := readPid(t, filepath.Join(pidDir, "redis.pid"))
		require.NoError(t, syscall.Kill(old, syscall.SIGKILL))
		waitFor(t, 30*time.Second, "redis to be restarted", func() bool {
			b, err := os.ReadFile(filepath.Join(pidDir, "redis.pid"))
			if err != nil {
				return false
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			return pid != old && redisPing(env["TEST_REDIS_ADDR"]) == nil
		})
		assert.Contains(t, out.String(), "exited unexpectedly")
	})

	pids := map[string]int{}
	for _, name := range []string{"mongo", "nats", "redis", "stripe-mock"} {
		pids[name] = readPid(t, filepath.Join(pidDir, name+".pid"))
	}

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-exited:
		require.NoError(t, waitErr, "the launcher exits 0 on SIGTERM")
	case <-time.After(30 * time.Second):
		t.Fatal("the launcher did not exit within 30s of SIGTERM")
	}
	for name, pid := range pids {
		err := syscall.Kill(pid, 0)
		assert.ErrorIs(t, err, syscall.ESRCH, "%s (pid %d) still running after the launcher stopped", name, pid)
	}
	assert.NoDirExists(t, env["LOCAL_DATA_DIR"], "the ephemeral data dir is removed")
	assert.NoFileExists(t, envFile, "the env file goes with the fleet")
}

// requireOrSkip skips the test when ok is false, unless CI=true, where a
// missing tool must fail the run instead of hiding it.
func requireOrSkip(t *testing.T, ok bool, why string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s; CI=true, so this fails instead of skipping", why)
	}
	t.Skip(why)
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readExports parses the launcher's `export NAME=value` lines.
func readExports(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	env := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		kv, ok := strings.CutPrefix(line, "export ")
		require.True(t, ok, "not an export line: %q", line)
		k, v, ok := strings.Cut(kv, "=")
		require.True(t, ok, "no '=' in %q", line)
		if strings.HasPrefix(v, "'") {
			v = strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(v, "'"), "'"), `'\''`, "'")
		}
		env[k] = v
	}
	return env
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	return pid
}

// redisPing speaks just enough RESP to know Redis is serving.
func redisPing(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	if err := conn.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return err
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return errors.New("unexpected reply " + strconv.Quote(line))
	}
	return nil
}

// lockedBuffer collects a child's output, written and read from different
// goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
