package security

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ticketing/common/testkit"
)

// startAuth runs the auth service's binary (bin/auth, from make build) on
// a free port over a fresh database and returns its base URL. The auth
// service has no app package to run in-process, so its fuzz target goes
// through a real process on loopback instead.
func startAuth(tb testing.TB) string {
	tb.Helper()
	bin, err := filepath.Abs(filepath.Join("..", "..", "bin", "auth"))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s missing under CI=true; run via make test", bin)
		}
		tb.Skipf("%s missing; run make build", bin)
	}
	db := testkit.MongoDB(tb)
	cmd := exec.Command(bin)
	cmd.Env = []string{"PORT=0", "MONGO_URI=" + testkit.MongoURI(tb, db.Name()), "JWT_KEY=" + fuzzKey, "PATH=" + os.Getenv("PATH")}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				addr <- line.Addr
				break
			}
		}
		_, _ = io.Copy(io.Discard, out) // keep draining, or the service blocks on its log
	}()
	select {
	case a := <-addr:
		_, port, err := net.SplitHostPort(a)
		if err != nil {
			tb.Fatalf("auth listens on %q: %v", a, err)
		}
		return "http://127.0.0.1:" + port
	case <-time.After(60 * time.Second):
		tb.Fatal("auth did not log \"listening\" within 60 s")
	}
	return ""
}

// FuzzAuthRoutes sends the auth routes arbitrary bodies and cookies.
func FuzzAuthRoutes(f *testing.F) {
	base := startAuth(f)
	hc := &http.Client{Timeout: 30 * time.Second}
	for i, b := range seedBodies {
		f.Add(uint8(i), []byte(b), "")
	}
	f.Add(uint8(0), []byte(`{"email":"fuzz-seed@example.com","password":"secret"}`), "")
	f.Add(uint8(2), []byte(nil), "eyJqd3QiOiJhLmIuYyJ9")
	f.Add(uint8(2), []byte(nil), "%%%")

	paths := []string{"/api/users/signup", "/api/users/signin", "/api/users/currentuser", "/api/users/signout"}
	f.Fuzz(func(t *testing.T, op uint8, body []byte, cookie string) {
		path := paths[int(op)%len(paths)]
		method := http.MethodPost
		if path == "/api/users/currentuser" {
			method = http.MethodGet
		}
		req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if cookie != "" {
			req.Header.Set("Cookie", "session="+cookie)
		}
		res, err := hc.Do(req)
		if err != nil {
			// A header value net/http will not send (a control character)
			// never reaches the server: nothing to judge.
			if !isHeaderRefusal(err) {
				t.Fatalf("%s: %v", path, err)
			}
			return
		}
		data, err := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		checkAnswer(t, method+" "+path, res.StatusCode, data)
	})
}

func isHeaderRefusal(err error) bool {
	return bytes.Contains([]byte(err.Error()), []byte("invalid header field value"))
}
