package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const queryAndExplain = `package sqlite

func (c *collection) Query(ctx context.Context, params *backends.QueryParams) (*backends.QueryResult, error) {
	if params.Filter.Len() == 1 {
		v, _ := params.Filter.Get("_id")
		_ = v
	}
	return nil, nil
}

func (c *collection) Explain(ctx context.Context, params *backends.ExplainParams) (*backends.ExplainResult, error) {
	if params.Filter.Len() == 1 {
		v, _ := params.Filter.Get("_id")
		_ = v
	}
	return nil, nil
}
`

func TestEditApply(t *testing.T) {
	query := edits[1]
	tests := []struct {
		name    string
		edit    edit
		src     string
		wantErr string
	}{
		{"query and explain", query, queryAndExplain, ""},
		{"no query function", query, strings.Replace(queryAndExplain, "func (c *collection) Query(", "func (c *collection) Find(", 1), "FerretDB changed"},
		{"condition rewritten upstream", query, strings.Replace(queryAndExplain, "if params.Filter.Len() == 1 {", "if hasID(params.Filter) {", 1), "occurs 0 times"},
		{"condition twice in query", query, strings.Replace(queryAndExplain, "\t\t_ = v\n", "\t\t_ = v\n\tif params.Filter.Len() == 1 {\n\t}\n", 1), "occurs 2 times"},
		{"id column", edits[0], "package metadata\n\nconst (\n\tIDColumn = DefaultColumn + \"->'$._id'\"\n)\n", ""},
		{"id column changed upstream", edits[0], "package metadata\n\nconst (\n\tIDColumn = DefaultColumn + \"->'_id'\"\n)\n", "occurs 0 times"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.edit.apply(tt.src)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, 1, strings.Count(got, marker), "one line changed")
			assert.Equal(t, strings.Count(tt.src, "\n"), strings.Count(got, "\n"), "lines stay where they were")
			if tt.edit.within == "" {
				return
			}
			query, explain, found := strings.Cut(got, "func (c *collection) Explain(")
			require.True(t, found)
			assert.Contains(t, query, "if params.Filter.Len() >= 1 {", "Query uses the index for any filter naming _id")
			assert.NotContains(t, query, "Len() == 1")
			assert.Contains(t, explain, "if params.Filter.Len() == 1 {", "Explain is left alone")
		})
	}
}

// The FerretDB this repository builds must still hold the code the patch
// changes; a version bump that moved it fails here, not in a slow fleet.
func TestRunOnTheModuleInUse(t *testing.T) {
	out := t.TempDir()
	work := filepath.Join("..", "..", "..", "..", "go.work")
	var stdout bytes.Buffer
	require.NoError(t, run([]string{"-out", out, "-work", work}, &stdout))
	workFile := strings.TrimSpace(stdout.String())
	assert.Equal(t, filepath.Join(out, "go.work"), workFile)

	written, err := os.ReadFile(workFile)
	require.NoError(t, err)
	_, replace, found := strings.Cut(string(written), "replace "+module+" ")
	require.True(t, found, "go.work replaces FerretDB:\n%s", written)
	version, copyDir, found := strings.Cut(strings.TrimSpace(replace), " => ")
	require.True(t, found)
	assert.Equal(t, filepath.Join(out, "FerretDB@"+version), copyDir)
	for _, use := range []string{"common", "infra/local", "services/tickets"} {
		abs, err := filepath.Abs(filepath.Join("..", "..", "..", "..", use))
		require.NoError(t, err)
		assert.Contains(t, string(written), "\t"+abs+"\n", "uses the repository's modules by absolute path")
	}

	mod, err := findModule(".")
	require.NoError(t, err)
	assert.Equal(t, mod.Version, version)
	for _, e := range edits {
		orig, err := os.ReadFile(filepath.Join(mod.Dir, e.file))
		require.NoError(t, err)
		want, err := e.apply(string(orig))
		require.NoError(t, err, "FerretDB %s still holds what %s changes", mod.Version, e.file)
		patched, err := os.ReadFile(filepath.Join(copyDir, e.file))
		require.NoError(t, err)
		assert.Equal(t, want, string(patched))
	}
	goMod, err := os.ReadFile(filepath.Join(copyDir, "go.mod"))
	require.NoError(t, err)
	assert.Contains(t, string(goMod), "module "+module)

	// The go command accepts the written workspace and finds the copy.
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module)
	cmd.Env = append(os.Environ(), "GOWORK="+workFile)
	outb, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", outb)
	assert.Equal(t, copyDir, strings.TrimSpace(string(outb)))

	// A second run leaves the files as they are.
	st1, err := os.Stat(filepath.Join(copyDir, edits[1].file))
	require.NoError(t, err)
	require.NoError(t, run([]string{"-out", out, "-work", work}, &stdout))
	st2, err := os.Stat(filepath.Join(copyDir, edits[1].file))
	require.NoError(t, err)
	assert.Equal(t, st1.ModTime(), st2.ModTime())
}

func TestRunNeedsOut(t *testing.T) {
	assert.ErrorContains(t, run(nil, &bytes.Buffer{}), "-out is required")
}
