package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSummary(t *testing.T) {
	tests := []struct {
		line     string
		wantPart string
		want     counts
		wantErr  bool
	}{
		{line: "12 passed, 0 failed", want: counts{12, 0, 0}},
		{line: "go: 12 passed, 3 failed, 4 skipped\n", wantPart: "go", want: counts{12, 3, 4}},
		{line: "client: 7 passed, 1 failed", wantPart: "client", want: counts{7, 1, 0}},
		{line: "12 passed", wantErr: true},
		{line: "", wantErr: true},
		{line: "two words: 1 passed, 0 failed", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			part, c, err := parseSummary(tt.line)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantPart, part)
			assert.Equal(t, tt.want, c)
		})
	}
}

func TestRunSumTotal(t *testing.T) {
	write := func(t *testing.T, dir, name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	tests := []struct {
		name     string
		files    map[string]string // name -> content; "" means not written
		wantLast string
		wantFail bool
	}{
		{
			name:     "everything passed",
			files:    map[string]string{"a": "go: 10 passed, 0 failed, 2 skipped\n", "b": "client: 5 passed, 0 failed\n"},
			wantLast: "15 passed, 0 failed, 2 skipped",
		},
		{
			name:     "a failure in one part fails the whole",
			files:    map[string]string{"a": "go: 10 passed, 0 failed\n", "b": "client: 4 passed, 1 failed\n"},
			wantLast: "14 passed, 1 failed",
			wantFail: true,
		},
		{
			name:     "a part that never wrote its line counts as a failure",
			files:    map[string]string{"a": "go: 10 passed, 0 failed\n", "b": ""},
			wantLast: "10 passed, 1 failed",
			wantFail: true,
		},
		{
			name:     "the last line of a file counts",
			files:    map[string]string{"a": "noise\ngo: 1 passed, 0 failed\n", "b": "client: 1 passed, 0 failed"},
			wantLast: "2 passed, 0 failed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var paths []string
			for _, name := range []string{"a", "b"} {
				if tt.files[name] == "" {
					paths = append(paths, filepath.Join(dir, name))
					continue
				}
				paths = append(paths, write(t, dir, name, tt.files[name]))
			}
			var out bytes.Buffer
			err := runSumTotal(paths, &out)
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			assert.Equal(t, tt.wantLast, lines[len(lines)-1], out.String())
			if tt.wantFail {
				assert.Equal(t, exitCode(1), err)
			} else {
				assert.NoError(t, err)
			}
		})
	}
}

func TestTestsumSummaryFile(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"passing tests", passPkg + skipTest, "go: 1 passed, 0 failed, 1 skipped\n"},
		{"nothing ran counts as a failure", "no Go files\n", "go: 0 passed, 1 failed\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "go.summary")
			var out bytes.Buffer
			_ = runTestsumCmd([]string{"--summary-file", path}, strings.NewReader(tt.input), &out)
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(b))
		})
	}
}
