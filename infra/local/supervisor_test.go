package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProcCrashLoopFailsWaitReadyWithTheExitStatus(t *testing.T) {
	ports, err := freePorts(1)
	require.NoError(t, err)
	var out lockedBuffer
	p := startProc(procSpec{
		name: "crashy",
		path: "sh",
		args: []string{"-c", "echo starting; exit 3"},
		addr: hostPort(ports[0]),
	}, &out, slog.New(slog.NewTextHandler(io.Discard, nil)), t.TempDir())
	t.Cleanup(func() { p.stop(time.Second) })

	err = p.waitReady(context.Background(), time.Minute)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "crashy exited 3 times while starting (last exit: exit status 3)")
	assert.Equal(t, crashLoopExits, strings.Count(out.String(), "[crashy] starting\n"))
}

func TestProcStopEscalatesToSIGKILL(t *testing.T) {
	pidDir := t.TempDir()
	var out lockedBuffer
	p := startProc(procSpec{
		name: "stubborn",
		path: "sh",
		// exec keeps one process, so SIGKILL leaves nothing holding the pipe.
		args: []string{"-c", `trap "" TERM; echo ready; exec sleep 60`},
	}, &out, slog.New(slog.NewTextHandler(io.Discard, nil)), pidDir)
	waitFor(t, 10*time.Second, "the child to start", func() bool {
		return strings.Contains(out.String(), "[stubborn] ready")
	})
	pid := readPid(t, filepath.Join(pidDir, "stubborn.pid"))

	start := time.Now()
	p.stop(300 * time.Millisecond)

	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "SIGTERM was ignored, so stop waits out its timeout")
	assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "the child is gone")
	assert.Equal(t, "last exit: signal: killed", p.status())
	assert.NoFileExists(t, filepath.Join(pidDir, "stubborn.pid"))
}
