// Command ferretpatch prepares a build of the embedded FerretDB (infra/local)
// whose SQLite storage finds a document by its _id through the _id index,
// with two one-line changes:
//
//  1. The SQL expression FerretDB queries _id with (`->'$._id'`) is not the
//     one its unique _id index is built on (`->"_id"`), so SQLite never used
//     that index: every lookup, update and delete by _id scanned the table
//     and parsed each document's JSON (6.5 ms at 4,000 tickets, against
//     0.006 ms through the index, measured with EXPLAIN QUERY PLAN on a copy
//     of the bench's database). The expression is made the index's.
//  2. Only a filter that is exactly {_id: <id>} reached SQLite at all; any
//     other was answered by decoding every document in Go. Every versioned
//     update filters on {_id, version}. Now any filter naming an _id by
//     value narrows the read to that row.
//
// Both are safe: `->'_id'` means `->'$._id'` in SQLite, and FerretDB's
// storage contract lets a backend apply a filter partially ("Filter may be
// ignored, or safely applied partially or entirely"); its handlers always
// apply the whole filter to what the storage returns, so {_id: X, version: 3}
// still checks the version. MongoDB itself uses its _id index for both.
//
// Nothing of FerretDB is kept in this repository: at build time the module is
// copied from the module cache into -out, the lines are changed there, and a
// workspace file that is the repository's go.work plus a replace of FerretDB
// by that copy is written next to it (go build -overlay cannot replace files
// in the module cache). The build fails loudly if a line to change is not
// found exactly once: a FerretDB upgrade must look again.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

const module = "github.com/FerretDB/FerretDB"

// edit replaces old by new, once, in a file of the module (a slash path),
// inside the function that starts with within when within is set.
type edit struct {
	file, within, old, new string
}

// marker ends every changed line, so the copy says what changed it.
const marker = " // ticketing: ferretpatch, see infra/local/cmd/ferretpatch"

var edits = []edit{
	{
		file: "internal/backends/sqlite/metadata/metadata.go",
		old:  "\tIDColumn = DefaultColumn + \"->'$._id'\"\n",
		new:  "\tIDColumn = DefaultColumn + \"->'_id'\"" + marker + "\n",
	},
	{
		// The same condition in Explain is left alone, so that explain
		// still reports a pushdown only for a filter it applies entirely.
		file:   "internal/backends/sqlite/collection.go",
		within: "func (c *collection) Query(",
		old:    "\tif params.Filter.Len() == 1 {\n",
		new:    "\tif params.Filter.Len() >= 1 {" + marker + "\n",
	},
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ferretpatch:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("ferretpatch", flag.ContinueOnError)
	out := fs.String("out", "", "directory to write the patched FerretDB and go.work into")
	work := fs.String("work", "go.work", "the repository's go.work, whose modules the written go.work uses")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("-out is required")
	}
	outDir, err := filepath.Abs(*out)
	if err != nil {
		return err
	}
	ws, err := readWork(*work)
	if err != nil {
		return err
	}
	mod, err := findModule(filepath.Dir(*work))
	if err != nil {
		return err
	}
	// Edits of one file apply in turn to what the previous ones left.
	patched := map[string]string{} // by path relative to the module
	for _, e := range edits {
		rel := filepath.FromSlash(e.file)
		text, ok := patched[rel]
		if !ok {
			orig, err := os.ReadFile(filepath.Join(mod.Dir, rel))
			if err != nil {
				return fmt.Errorf("read FerretDB's %s: %w", e.file, err)
			}
			text = string(orig)
		}
		text, err := e.apply(text)
		if err != nil {
			return fmt.Errorf("FerretDB %s %s: %w", mod.Version, e.file, err)
		}
		patched[rel] = text
	}
	src := filepath.Join(outDir, "FerretDB@"+mod.Version)
	if err := copyTree(mod.Dir, src, patched); err != nil {
		return fmt.Errorf("copy FerretDB: %w", err)
	}
	workFile := filepath.Join(outDir, "go.work")
	if err := writeIfChanged(workFile, []byte(ws.withReplace(mod.Version, src))); err != nil {
		return err
	}
	// The sums of the repository's workspace serve the copy too.
	if sum, err := os.ReadFile(*work + ".sum"); err == nil {
		if err := writeIfChanged(workFile+".sum", sum); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdout, workFile)
	return nil
}

// workspace is what the written go.work keeps of the repository's.
type workspace struct {
	Go  string
	Use []string // absolute module directories
}

func readWork(path string) (workspace, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return workspace{}, err
	}
	cmd := exec.Command("go", "work", "edit", "-json", abs)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		return workspace{}, fmt.Errorf("go work edit -json %s: %w: %s", path, err, stderr.String())
	}
	var w struct {
		Go  string
		Use []struct{ DiskPath string }
	}
	if err := json.Unmarshal(outb, &w); err != nil {
		return workspace{}, fmt.Errorf("read %s: %w", path, err)
	}
	ws := workspace{Go: w.Go}
	for _, u := range w.Use {
		dir := u.DiskPath
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(filepath.Dir(abs), dir)
		}
		ws.Use = append(ws.Use, dir)
	}
	return ws, nil
}

func (w workspace) withReplace(version, dir string) string {
	var b strings.Builder
	b.WriteString("// Written by infra/local/cmd/ferretpatch: the repository's go.work with\n")
	b.WriteString("// FerretDB replaced by a copy that has one line changed.\n")
	fmt.Fprintf(&b, "go %s\n\nuse (\n", w.Go)
	for _, u := range w.Use {
		fmt.Fprintf(&b, "\t%s\n", u)
	}
	fmt.Fprintf(&b, ")\n\nreplace %s %s => %s\n", module, version, dir)
	return b.String()
}

// apply returns src with e made. It fails unless old occurs exactly once
// where e looks, so a changed FerretDB is never patched blindly.
func (e edit) apply(src string) (string, error) {
	start, end := 0, len(src)
	if e.within != "" {
		start = strings.Index(src, e.within)
		if start < 0 {
			return "", fmt.Errorf("no %q: FerretDB changed, look at ferretpatch again", e.within)
		}
		// The function ends at the first line that closes a top-level block.
		n := strings.Index(src[start:], "\n}\n")
		if n < 0 {
			return "", fmt.Errorf("the end of %q was not found", e.within)
		}
		end = start + n
	}
	body := src[start:end]
	if n := strings.Count(body, e.old); n != 1 {
		return "", fmt.Errorf("%q occurs %d times, want 1: FerretDB changed, look at ferretpatch again", strings.TrimSpace(e.old), n)
	}
	return src[:start] + strings.Replace(body, e.old, e.new, 1) + src[end:], nil
}

// moduleInfo is what `go list -m -json` says of a module.
type moduleInfo struct {
	Version string
	Dir     string
}

// findModule asks the go command which FerretDB the workspace in dir builds
// and where it lives, downloading it if needed.
func findModule(dir string) (moduleInfo, error) {
	list := func() (moduleInfo, error) {
		cmd := exec.Command("go", "list", "-m", "-json", module)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		outb, err := cmd.Output()
		if err != nil {
			return moduleInfo{}, fmt.Errorf("go list -m %s: %w: %s", module, err, stderr.String())
		}
		var m moduleInfo
		if err := json.Unmarshal(outb, &m); err != nil {
			return moduleInfo{}, fmt.Errorf("go list -m %s: %w", module, err)
		}
		return m, nil
	}
	m, err := list()
	if err != nil || m.Dir != "" {
		return m, err
	}
	// Not downloaded yet: fill the module cache, then ask again.
	dl := exec.Command("go", "mod", "download", module)
	dl.Dir = dir
	if outb, err := dl.CombinedOutput(); err != nil {
		return moduleInfo{}, fmt.Errorf("go mod download %s: %w: %s", module, err, outb)
	}
	if m, err = list(); err != nil {
		return moduleInfo{}, err
	}
	if m.Dir == "" || m.Version == "" {
		return moduleInfo{}, fmt.Errorf("go list -m %s names no directory or version", module)
	}
	return m, nil
}

// copyTree copies the regular files under from into to, writable, leaving
// files that are already the same alone; a file named in replaced (by its
// path relative to from) gets that text instead of its own.
func copyTree(from, to string, replaced map[string]string) error {
	return filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if text, ok := replaced[rel]; ok {
			return writeIfChanged(dst, []byte(text))
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return writeIfChanged(dst, data)
	})
}

// writeIfChanged leaves an identical file alone, so a rebuild finds
// everything as it was.
func writeIfChanged(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	return os.WriteFile(path, data, 0o644)
}
