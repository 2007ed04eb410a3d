package infracheck

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// goServices are the services built from services/<name>/Dockerfile.
func goServices() []string {
	return []string{"auth", "tickets", "orders", "expiration", "payments"}
}

// ownImages are the images this repository builds: the Go services and the
// client, each named ticketing/<name> before an overlay renames it.
func ownImages() []string {
	return append(goServices(), "client")
}

// repoRoot is the directory holding go.work, found upwards from the test's
// working directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.work above the working directory")
		}
		dir = parent
	}
}

// exists reports whether path names a file or directory.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// requireNoProblems fails the test with every problem, one per line.
func requireNoProblems(t testing.TB, problems []error) {
	t.Helper()
	for _, p := range problems {
		t.Error(p)
	}
}

// problemf is one finding of a check.
func problemf(format string, args ...any) error {
	return fmt.Errorf(format, args...)
}

// copyTree copies the files under src into dst (used to break copies of the
// real files on purpose).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			if d.Name() == "node_modules" || d.Name() == ".next" {
				return filepath.SkipDir
			}
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return copyFile(path, target)
	})
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

// joinProblems turns problems into one error for messages.
func joinProblems(problems []error) string {
	var b strings.Builder
	for _, p := range problems {
		b.WriteString(p.Error())
		b.WriteByte('\n')
	}
	return b.String()
}
