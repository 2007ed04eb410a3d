package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseWithArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    withConfig
		wantErr string
	}{
		{"only a command", []string{"--", "make", "test-go"},
			withConfig{timeout: 10 * time.Minute, command: []string{"make", "test-go"}}, ""},
		{"own flags both ways, up's passed on in order",
			[]string{"--log", "f.log", "--deps-only", "--timeout=2m", "--ingress", "x.yaml", "--pid-file=p", "--", "sh", "-c", "true"},
			withConfig{log: "f.log", pidFile: "p", timeout: 2 * time.Minute, upArgs: []string{"--deps-only", "--ingress", "x.yaml"},
				command: []string{"sh", "-c", "true"}}, ""},
		{"a command's own -- stays its own", []string{"--", "go", "test", "--", "-x"},
			withConfig{timeout: 10 * time.Minute, command: []string{"go", "test", "--", "-x"}}, ""},
		{"no separator", []string{"--deps-only", "make"}, withConfig{}, "no command"},
		{"nothing after it", []string{"--deps-only", "--"}, withConfig{}, "no command"},
		{"a value missing", []string{"--log", "--", "true"}, withConfig{}, "--log needs a value"},
		{"a bad timeout", []string{"--timeout", "soon", "--", "true"}, withConfig{}, "--timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseWithArgs(tt.args)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// What up writes to its env file, with reads back unchanged.
func TestExportsRoundTrip(t *testing.T) {
	vars := []envVar{
		{"TEST_MONGO_URI", "mongodb://127.0.0.1:5/?maxPoolSize=1"},
		{"APP_URL", "http://127.0.0.1:8080"},
		{"ODD", "it's got 'quotes' and spaces"},
		{"EMPTY", ""},
	}
	got, err := parseExports(formatExports(vars))
	require.NoError(t, err)
	assert.Equal(t, vars, got)

	_, err = parseExports("TEST=1\n")
	assert.Error(t, err, "not an export line")
	_, err = parseExports("export A='open\n")
	assert.Error(t, err, "unbalanced quotes")
}
