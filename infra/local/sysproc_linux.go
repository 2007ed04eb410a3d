package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// childSysProcAttr puts a child in its own process group, so a Ctrl-C in the
// terminal reaches only the launcher, which then stops the children in order;
// and has the kernel send the child deathSignal if the launcher dies without
// stopping it (kill -9), so no orphan keeps a port busy for the next run.
// SIGKILL suits a single process; a child with workers of its own gets a
// signal it can catch, so it stops them before it goes (the kernel's signal
// reaches only the child, not what it forked).
func childSysProcAttr(deathSignal syscall.Signal) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: deathSignal}
}

// awaitExit returns once process pid has exited, without reaping it (cmd.Wait
// does that, and may be held up afterwards by a grandchild that keeps the
// output pipes open). An error means it cannot tell (pid is already reaped,
// or the kernel has no pidfd): the caller then learns of the exit from
// cmd.Wait.
func awaitExit(pid int) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	defer func() { _ = unix.Close(fd) }()
	for {
		// A pidfd turns readable when its process exits.
		_, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, -1)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// groupLive reports whether process group pgid has a member that has not
// exited. Zombies do not count: they hold no port or file, and an orphan's
// zombie lasts until init reaps it, which in a container may be never.
func groupLive(pgid int) bool {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return !errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH)
	}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and ')'.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) >= 3 && f[2] == strconv.Itoa(pgid) && f[0] != "Z" {
			return true
		}
	}
	return false
}
