package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// envVar is one NAME=value pair; a slice of them keeps the printed order stable.
type envVar struct{ name, value string }

// formatExports renders vars as lines a POSIX shell can `source`.
func formatExports(vars []envVar) string {
	var b strings.Builder
	for _, v := range vars {
		fmt.Fprintf(&b, "export %s=%s\n", v.name, shellQuote(v.value))
	}
	return b.String()
}

// shellQuote leaves plain values readable and single-quotes the rest: a Mongo
// URI's '?' would otherwise be a glob when the line is sourced.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.,/:@%+=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// writeFileAtomic replaces path with data so that a reader polling for the
// file (the Makefile waiting for the env file) never sees half of it.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(perm); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("chmod %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename into %s: %w", path, err)
	}
	return nil
}

// randomHex returns 2n random hex digits. crypto/rand.Read never fails
// (it would crash the program first), so there is no error to return.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// jwtKey picks the key the services sign sessions with: the launcher's own
// JWT_KEY if set; else a fresh one for a throwaway fleet; else the key kept
// in dataDir, so sessions survive a restart of `make up`.
func jwtKey(getenv func(string) string, ephemeral bool, dataDir string) (string, error) {
	if k := getenv("JWT_KEY"); k != "" {
		return k, nil
	}
	if ephemeral {
		return randomHex(32), nil
	}
	path := filepath.Join(dataDir, "jwt_key")
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if k := strings.TrimSpace(string(b)); k != "" {
			return k, nil
		}
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("read JWT key: %w", err)
	}
	k := randomHex(32)
	if err := writeFileAtomic(path, []byte(k+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("keep JWT key: %w", err)
	}
	return k, nil
}

// baseEnv is the environment every child starts from: what any process needs
// to run, and the Go runtime's knobs. Children do not get the launcher's
// whole environment, so a service sees what a pod would.
func baseEnv(getenv func(string) string) []string {
	var env []string
	for _, name := range []string{"PATH", "HOME", "USER", "TMPDIR", "TZ", "LANG", "LC_ALL", "GODEBUG", "GORACE", "GOCOVERDIR"} {
		if v := getenv(name); v != "" {
			env = append(env, name+"="+v)
		}
	}
	return env
}
