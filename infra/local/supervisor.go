package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

const (
	// minBackoff and maxBackoff bound the pause before a crashed child is
	// started again; the pause doubles while it keeps crashing.
	minBackoff = 500 * time.Millisecond
	maxBackoff = 10 * time.Second
	// stableAfter is how long a child must run before a crash counts as a
	// new one rather than part of a crash loop.
	stableAfter = 30 * time.Second
	// waitDelay bounds how long we wait for a child's output after it exits;
	// redis-server forks for snapshots and the fork holds the pipe open.
	waitDelay = 2 * time.Second
	// crashLoopExits is how many exits while starting make waitReady give
	// up at once rather than wait out its timeout.
	crashLoopExits = 3
)

// procSpec says how to run one child process.
type procSpec struct {
	name string
	path string
	args []string
	// argsAt, when set, is called at every start instead of using args (a
	// Redis node asks the Sentinels whom to follow).
	argsAt func() []string
	// restartAfter, when set, is the least pause before a restart.
	restartAfter time.Duration
	// env is called at every start, so a value can change per start
	// (a NATS client id must be unique per connection).
	env func() []string
	// addr is the host:port the child accepts TCP connections on once ready.
	addr string
	// group says the child forks workers of its own (nginx). They share its
	// process group, and the whole group is killed once the child has
	// exited, so a kill -9 of the child leaves no worker holding its port.
	// If the launcher dies, the child gets SIGTERM rather than SIGKILL, so
	// that it stops its workers itself.
	group bool
}

// proc keeps one child running: it starts it, restarts it after a backoff
// when it exits on its own, and stops it on request.
type proc struct {
	spec    procSpec
	out     io.Writer
	log     *slog.Logger
	pidFile string

	stopOnce  sync.Once
	stopping  chan struct{} // closed when stop is called
	done      chan struct{} // closed when the loop has returned
	crashLoop chan struct{} // closed at the crashLoopExits-th unexpected exit

	mu       sync.Mutex
	cmd      *exec.Cmd // the running child, nil between runs
	lastExit string    // how the previous run ended, for error messages
	exits    int       // unexpected exits so far
}

// startProc starts spec's child and keeps it running until stop.
func startProc(spec procSpec, out io.Writer, log *slog.Logger, pidDir string) *proc {
	p := &proc{
		spec:      spec,
		out:       out,
		log:       log.With("proc", spec.name),
		pidFile:   filepath.Join(pidDir, spec.name+".pid"),
		stopping:  make(chan struct{}),
		done:      make(chan struct{}),
		crashLoop: make(chan struct{}),
	}
	go p.loop()
	return p
}

func (p *proc) loop() {
	defer close(p.done)
	backoff := max(minBackoff, p.spec.restartAfter)
	for {
		started := time.Now()
		err := p.runOnce()
		select {
		case <-p.stopping:
			return
		default:
		}
		if time.Since(started) > stableAfter {
			backoff = max(minBackoff, p.spec.restartAfter)
		}
		p.mu.Lock()
		if p.exits++; p.exits == crashLoopExits {
			close(p.crashLoop)
		}
		p.mu.Unlock()
		p.log.Warn("exited unexpectedly; restarting", "status", describeExit(err), "after", backoff)
		select {
		case <-p.stopping:
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, max(maxBackoff, p.spec.restartAfter))
	}
}

// errStopping is returned by runOnce when stop came before the start.
var errStopping = errors.New("stopping")

// runOnce starts the child and waits for it to exit.
func (p *proc) runOnce() error {
	stdout, stderr := newLineWriter(p.out, p.spec.name), newLineWriter(p.out, p.spec.name)
	defer stdout.Flush()
	defer stderr.Flush()

	args := p.spec.args
	if p.spec.argsAt != nil {
		args = p.spec.argsAt()
	}
	cmd := exec.Command(p.spec.path, args...)
	if p.spec.env != nil {
		cmd.Env = p.spec.env()
	}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	deathSignal := syscall.SIGKILL
	if p.spec.group {
		deathSignal = syscall.SIGTERM
	}
	cmd.SysProcAttr = childSysProcAttr(deathSignal)
	cmd.WaitDelay = waitDelay

	// Holding mu from the stop check through Start means stop either sees
	// this child to signal or we see stopping: never neither.
	p.mu.Lock()
	select {
	case <-p.stopping:
		p.mu.Unlock()
		return errStopping
	default:
	}
	if err := cmd.Start(); err != nil {
		p.lastExit = err.Error()
		p.mu.Unlock()
		return fmt.Errorf("start %s: %w", p.spec.path, err)
	}
	p.cmd = cmd
	p.mu.Unlock()

	pid := cmd.Process.Pid
	if err := writeFileAtomic(p.pidFile, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		p.log.Error("write pid file", "err", err)
	}
	p.log.Debug("started", "pid", pid)

	var groupEnded chan bool
	if p.spec.group {
		// As soon as the child exits: cmd.Wait returns only once its workers
		// have let go of the output pipes, or after waitDelay.
		groupEnded = make(chan bool, 1)
		go func() {
			exited := awaitExit(pid) == nil
			if exited {
				p.endGroup(pid)
			}
			groupEnded <- exited
		}()
	}
	err := cmd.Wait()
	if groupEnded != nil && !<-groupEnded {
		p.endGroup(pid)
	}

	p.mu.Lock()
	p.cmd = nil
	p.lastExit = describeExit(err)
	p.mu.Unlock()
	return err
}

// endGroup kills what is left of process group pgid (its leader has
// exited) and waits, at most waitDelay, until it is gone.
func (p *proc) endGroup(pgid int) {
	err := syscall.Kill(-pgid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return
	}
	if err != nil {
		p.log.Warn("kill process group", "pgid", pgid, "err", err)
		return
	}
	p.log.Debug("killed what the child left of its process group", "pgid", pgid)
	deadline := time.Now().Add(waitDelay)
	for time.Now().Before(deadline) {
		if !groupLive(pgid) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.log.Warn("process group still there after SIGKILL", "pgid", pgid, "after", waitDelay)
}

// describeExit says how a child ended ("exit status 1", "signal: killed").
func describeExit(err error) string {
	var exit *exec.ExitError
	switch {
	case err == nil:
		return "exit status 0"
	case errors.As(err, &exit):
		return exit.ProcessState.String()
	default:
		return err.Error()
	}
}

// signal sends sig to the running child, if any.
func (p *proc) signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.log.Warn("signal", "signal", sig, "err", err)
	}
}

// stop ends the child: SIGTERM, then SIGKILL if it is still there after
// timeout. It returns once the child has exited, and never restarts it.
func (p *proc) stop(timeout time.Duration) {
	p.stopOnce.Do(func() { close(p.stopping) })
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.log.Warn("did not stop in time; killing", "timeout", timeout)
		p.signal(syscall.SIGKILL)
		<-p.done
	}
	if err := os.Remove(p.pidFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		p.log.Warn("remove pid file", "err", err)
	}
}

// status says how the last run ended, or that it is running.
func (p *proc) status() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.cmd != nil:
		return "running"
	case p.lastExit != "":
		return "last exit: " + p.lastExit
	default:
		return "not started"
	}
}

// waitReady waits until p accepts TCP connections on its address. A child
// that keeps crashing (a bad flag, a missing variable) fails it at once; its
// own output above says why.
func (p *proc) waitReady(ctx context.Context, timeout time.Duration) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-p.crashLoop:
			cancel()
		case <-wctx.Done():
		}
	}()
	err := waitTCP(wctx, p.spec.addr, timeout)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return err
	case wctx.Err() != nil:
		return fmt.Errorf("%s exited %d times while starting (%s)", p.spec.name, crashLoopExits, p.status())
	default:
		return fmt.Errorf("%s did not come up (%s): %w", p.spec.name, p.status(), err)
	}
}

// stopAll stops procs in parallel and returns when all have exited.
func stopAll(procs []*proc, timeout time.Duration) {
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(func() { p.stop(timeout) })
	}
	wg.Wait()
}
