package main

import (
	"fmt"
	"syscall"
)

// spareFiles are the generator's descriptors besides its connections
// (database clients, output files, the runtime's own).
const spareFiles = 256

// raiseOpenFileLimit raises the open-file soft limit to want, or to the hard
// limit when that is lower, and returns the soft limit in force. Go raises
// the soft limit at start-up on its own on some systems only; asking for
// what the run needs makes the limit explicit and the shortfall visible.
func raiseOpenFileLimit(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("read the open-file limit: %w", err)
	}
	if lim.Cur >= want {
		return lim.Cur, nil
	}
	up := syscall.Rlimit{Cur: min(want, lim.Max), Max: lim.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &up); err != nil {
		return lim.Cur, fmt.Errorf("raise the open-file limit from %d to %d: %w", lim.Cur, up.Cur, err)
	}
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("read the open-file limit: %w", err)
	}
	return lim.Cur, nil
}
