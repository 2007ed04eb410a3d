//go:build !linux

package main

import "syscall"

// childSysProcAttr puts a child in its own process group, so a Ctrl-C in the
// terminal reaches only the launcher, which then stops the children in order.
// Outside Linux there is no parent-death signal: kill -9 of the launcher
// leaves its children running.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
