// Package localfleet starts the whole fleet the way `make up` does (bin/local
// up, every service its own OS process) on free ports with throw-away data,
// for end-to-end, fault and load tests.
package localfleet

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Fleet is a running fleet; Env holds what the launcher exported
// (AUTH_URL, TICKETS_URL, ..., TEST_MONGO_URI, JWT_KEY, LOCAL_DATA_DIR).
type Fleet struct {
	Env map[string]string
	cmd *exec.Cmd
}

// URL is the base URL of one service, e.g. URL("orders").
func (f *Fleet) URL(service string) string {
	return f.Env[strings.ToUpper(strings.ReplaceAll(service, "-", "_"))+"_URL"]
}

// Start runs bin/local up --ephemeral with env added to the launcher's
// environment and args after the defaults, and stops it when the test ends.
// It skips when bin/local has not been built (make build), except under
// CI=true, where that is a failure.
func Start(t testing.TB, env []string, args ...string) *Fleet {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatalf("localfleet: %v", err)
	}
	bin := filepath.Join(root, "bin")
	if _, err := os.Stat(filepath.Join(bin, "local")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("localfleet: %s/local missing under CI=true; run via make test", bin)
		}
		t.Skipf("localfleet: %s/local missing; run `make build` or make test", bin)
	}
	envFile := filepath.Join(t.TempDir(), "fleet.env")
	logFile, err := os.Create(filepath.Join(t.TempDir(), "fleet.log"))
	if err != nil {
		t.Fatalf("localfleet: %v", err)
	}
	cmd := exec.Command(filepath.Join(bin, "local"), append([]string{"up", "--ephemeral", "--bin", bin, "--env-file", envFile}, args...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("localfleet: start %s: %v", cmd.Path, err)
	}
	f := &Fleet{cmd: cmd}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			logTail(t, logFile.Name())
			keepLog(t, root, logFile.Name())
		}
		_ = logFile.Close()
	})

	exited := make(chan struct{})
	go func() {
		_, _ = cmd.Process.Wait()
		close(exited)
	}()
	deadline := time.After(3 * time.Minute)
	for {
		if env, err := readEnvFile(envFile); err == nil {
			f.Env = env
			return f
		}
		select {
		case <-exited:
			logTail(t, logFile.Name())
			t.Fatalf("localfleet: the launcher exited before the fleet was up")
		case <-deadline:
			logTail(t, logFile.Name())
			t.Fatalf("localfleet: the fleet was not up within 3 minutes")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// readEnvFile parses the `export NAME=value` lines the launcher writes
// (values plain or single-quoted).
func readEnvFile(path string) (map[string]string, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "export ")
		if !ok {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s: malformed line %q", path, sc.Text())
		}
		if len(value) >= 2 && value[0] == '\'' && value[len(value)-1] == '\'' {
			value = strings.ReplaceAll(value[1:len(value)-1], `'\''`, "'")
		}
		env[name] = value
	}
	return env, sc.Err()
}

func repoRoot() (string, error) {
	out, err := exec.CommandContext(context.Background(), "git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "", fmt.Errorf("find the repository root: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func logTail(t testing.TB, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 60 {
		lines = lines[len(lines)-60:]
	}
	t.Logf("localfleet: the launcher's log, last lines:\n%s", strings.Join(lines, "\n"))
}

// keepLog copies the whole launcher log of a failed test to .data/fleet-logs
// (the temporary directory goes with the test): every service's log is
// the only record of what happened to an event the checks found missing.
func keepLog(t testing.TB, root, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	dir := filepath.Join(root, ".data", "fleet-logs")
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + "-" + time.Now().UTC().Format("20060102T150405") + ".log"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err == nil {
		t.Logf("localfleet: the launcher's whole log is in %s", filepath.Join(dir, name))
	}
}
