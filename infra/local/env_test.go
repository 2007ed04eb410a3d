package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFormatExportsSourcesBackUnchanged(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not on PATH: cannot check the lines source back")
	}
	vars := []envVar{
		{"PLAIN", "nats://127.0.0.1:4222"},
		{"GLOB", "mongodb://127.0.0.1:1/?maxPoolSize=1"},
		{"SPACES", "a b  c"},
		{"QUOTE", `it's "quoted" $HOME`},
		{"EMPTY", ""},
	}
	file := filepath.Join(t.TempDir(), "env")
	require.NoError(t, writeFileAtomic(file, []byte(formatExports(vars)), 0o600))
	// A file named like the glob's match proves '?' is not expanded.
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "?maxPoolSize=1"), nil, 0o600))

	for _, v := range vars {
		t.Run(v.name, func(t *testing.T) {
			cmd := exec.Command(bash, "-c", `source "$1" && printf %s "${!2}"`, "bash", file, v.name)
			cmd.Dir = dir
			got, err := cmd.Output()
			require.NoError(t, err)
			assert.Equal(t, v.value, string(got))
		})
	}
}

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		{"a?b", "'a?b'"},
		{"it's", `'it'\''s'`},
		{"", "''"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, shellQuote(tt.in))
		})
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "env")

	require.NoError(t, writeFileAtomic(path, []byte("one\n"), 0o600))
	require.NoError(t, writeFileAtomic(path, []byte("two\n"), 0o640))

	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "two\n", string(got))
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), info.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file may be left behind")

	err = writeFileAtomic(filepath.Join(dir, "missing", "env"), []byte("x"), 0o600)
	require.Error(t, err)
}

func TestJWTKey(t *testing.T) {
	noEnv := func(string) string { return "" }
	tests := []struct {
		name      string
		getenv    func(string) string
		ephemeral bool
		check     func(t *testing.T, dir, first, second string)
	}{
		{
			name:   "launcher's JWT_KEY wins",
			getenv: func(k string) string { return map[string]string{"JWT_KEY": "from-env"}[k] },
			check: func(t *testing.T, dir, first, second string) {
				assert.Equal(t, "from-env", first)
				assert.NoFileExists(t, filepath.Join(dir, "jwt_key"))
			},
		},
		{
			name:   "kept in the data dir across runs",
			getenv: noEnv,
			check: func(t *testing.T, dir, first, second string) {
				assert.Len(t, first, 64)
				assert.Equal(t, first, second)
				info, err := os.Stat(filepath.Join(dir, "jwt_key"))
				require.NoError(t, err)
				assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
			},
		},
		{
			name:      "fresh per ephemeral run",
			getenv:    noEnv,
			ephemeral: true,
			check: func(t *testing.T, dir, first, second string) {
				assert.Len(t, first, 64)
				assert.NotEqual(t, first, second)
				assert.NoFileExists(t, filepath.Join(dir, "jwt_key"))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			first, err := jwtKey(tt.getenv, tt.ephemeral, dir)
			require.NoError(t, err)
			second, err := jwtKey(tt.getenv, tt.ephemeral, dir)
			require.NoError(t, err)
			tt.check(t, dir, first, second)
		})
	}
}
