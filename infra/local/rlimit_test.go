package main

import (
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRaiseOpenFileLimitReachesChildren checks the part Go does not do by
// itself: a child started afterwards gets the raised limit, not the one the
// launcher was started with.
func TestRaiseOpenFileLimitReachesChildren(t *testing.T) {
	var before syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &before))
	want := before.Max + 1000 // beyond the hard limit: only a privileged process gets all of it

	got, err := raiseOpenFileLimit(want)
	require.NoError(t, err)
	t.Logf("open-file limit: soft %d, hard %d before; asked %d, got %d", before.Cur, before.Max, want, got)
	assert.GreaterOrEqual(t, got, before.Max, "at least the hard limit")
	assert.LessOrEqual(t, got, want)

	out, err := exec.Command("sh", "-c", "ulimit -n").Output()
	require.NoError(t, err)
	child, err := strconv.ParseUint(strings.TrimSpace(string(out)), 10, 64)
	require.NoError(t, err)
	assert.Equal(t, got, child, "a child inherits the raised limit")

	again, err := raiseOpenFileLimit(got)
	require.NoError(t, err)
	assert.Equal(t, got, again, "asking for what is already there changes nothing")
}
