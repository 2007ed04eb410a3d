package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
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

// TestProcGroupKillLeavesNoWorker is nginx's case: a child whose own workers
// share its process group. A kill -9 of the child must take the workers
// with it at once, or they keep its port and the restarted child cannot bind.
func TestProcGroupKillLeavesNoWorker(t *testing.T) {
	pidDir := t.TempDir()
	var out lockedBuffer
	p := startProc(procSpec{
		name:  "master",
		path:  "sh",
		args:  []string{"-c", `sleep 60 & echo "worker $!"; wait`},
		group: true,
	}, &out, slog.New(slog.NewTextHandler(io.Discard, nil)), pidDir)
	t.Cleanup(func() { p.stop(time.Second) })

	workerPid := func(nth int) int {
		var pid int
		waitFor(t, 10*time.Second, "worker line", func() bool {
			lines := strings.Split(out.String(), "\n")
			n := 0
			for _, l := range lines {
				if rest, ok := strings.CutPrefix(l, "[master] worker "); ok {
					if n++; n == nth {
						pid, _ = strconv.Atoi(rest)
						return pid > 0
					}
				}
			}
			return false
		})
		return pid
	}
	worker := workerPid(1)
	master := readPid(t, filepath.Join(pidDir, "master.pid"))
	pgid, err := syscall.Getpgid(worker)
	require.NoError(t, err)
	require.Equal(t, master, pgid, "the worker is in the child's group")

	start := time.Now()
	require.NoError(t, syscall.Kill(master, syscall.SIGKILL))
	waitFor(t, 10*time.Second, "the worker to be gone", func() bool {
		return errors.Is(syscall.Kill(worker, 0), syscall.ESRCH) || isZombie(worker)
	})
	gone := time.Since(start)
	t.Logf("worker gone %s after kill -9 of its master", gone)
	assert.Less(t, gone, waitDelay, "killed as the master exits, not once cmd.Wait gives up on the pipes")

	second := workerPid(2)
	assert.NotEqual(t, worker, second, "the child was started again")
}

// isZombie reports whether pid has exited but is not reaped yet; an orphan
// is reaped by init, which may take its time in a container.
func isZombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}
