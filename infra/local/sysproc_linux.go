package main

import "syscall"

// childSysProcAttr puts a child in its own process group, so a Ctrl-C in the
// terminal reaches only the launcher, which then stops the children in order;
// and has the kernel kill the child if the launcher dies without stopping it
// (kill -9), so no orphan keeps a port busy for the next run.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
