//go:build !linux

package main

import (
	"errors"
	"syscall"
)

// childSysProcAttr puts a child in its own process group, so a Ctrl-C in the
// terminal reaches only the launcher, which then stops the children in order.
// Outside Linux there is no parent-death signal: kill -9 of the launcher
// leaves its children running.
func childSysProcAttr(syscall.Signal) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// awaitExit cannot wait without reaping here; the caller learns of the exit
// from cmd.Wait.
func awaitExit(int) error { return errors.ErrUnsupported }

// groupLive reports whether process group pgid has a member (zombies too).
func groupLive(pgid int) bool { return !errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH) }
