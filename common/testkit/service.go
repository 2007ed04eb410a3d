package testkit

import (
	"context"
	"io"
	"regexp"
	"sync"
	"testing"
	"time"
)

// RunFunc is a service's run, as its main calls it.
type RunFunc func(ctx context.Context, getenv func(string) string, stdout io.Writer) error

// Service is a service's real run started in-process by RunService.
type Service struct {
	URL  string // http://127.0.0.1:<port> once it logs "listening"
	Logs *LogBuffer
	stop func()
}

// Stop cancels run and checks that it returned nil; it also runs at cleanup.
func (s *Service) Stop() { s.stop() }

// ListeningAddr matches the line httpx.Serve logs once the port is open.
var ListeningAddr = regexp.MustCompile(`"msg":"listening".*"addr":"[^"]*:(\d+)"`)

// RunService starts run with env (PORT=0 picks a free port) and waits until
// it logs "listening"; a run that exits first, or takes over 30 s, fails
// the test with the service's log.
func RunService(t testing.TB, name string, run RunFunc, env map[string]string) *Service {
	t.Helper()
	logs := &LogBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, logs) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("%s: run returned %v\n%s", name, err, logs.String())
				}
			case <-time.After(15 * time.Second):
				t.Errorf("%s did not stop within 15 s", name)
			}
		})
	}
	t.Cleanup(stop)

	deadline := time.After(30 * time.Second)
	for {
		if m := ListeningAddr.FindStringSubmatch(logs.String()); m != nil {
			return &Service{URL: "http://127.0.0.1:" + m[1], Logs: logs, stop: stop}
		}
		select {
		case err := <-done:
			t.Fatalf("%s exited early: %v\n%s", name, err, logs.String())
		case <-deadline:
			t.Fatalf("%s did not start listening within 30 s:\n%s", name, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
