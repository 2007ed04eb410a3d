package main

import (
	"fmt"
	"syscall"
)

// raiseOpenFileLimit raises this process's open-file limit, which every
// child started afterwards inherits, to want if the hard limit allows (or
// the process may raise the hard limit too), else to the hard limit. It
// returns the soft limit now in force.
//
// Go already raises its own soft limit at start-up, but hands children the
// limit it was started with; a Setrlimit of our own is what they inherit.
func raiseOpenFileLimit(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("read the open-file limit: %w", err)
	}
	if lim.Cur >= want {
		return lim.Cur, nil
	}
	// Raising the hard limit needs privilege (root, CAP_SYS_RESOURCE);
	// without it the soft limit can still go up to the hard one.
	up := syscall.Rlimit{Cur: want, Max: max(want, lim.Max)}
	if lim.Max >= want || syscall.Setrlimit(syscall.RLIMIT_NOFILE, &up) != nil {
		up = syscall.Rlimit{Cur: min(want, lim.Max), Max: lim.Max}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &up); err != nil {
			return lim.Cur, fmt.Errorf("raise the open-file limit from %d to %d: %w", lim.Cur, up.Cur, err)
		}
	}
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("read the open-file limit: %w", err)
	}
	return lim.Cur, nil
}
