package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"
)

// freePorts returns n distinct TCP ports on 127.0.0.1 that were free a moment
// ago. Another process may take one before our child binds it; the window is
// small and a clash shows up as a clear start-up error, not a hang.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	seen := make(map[int]bool, n)
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		if err := l.Close(); err != nil {
			return nil, fmt.Errorf("release probe port %d: %w", p, err)
		}
		if !seen[p] {
			seen[p] = true
			ports = append(ports, p)
		}
	}
	return ports, nil
}

// checkPortFree fails if something already listens on 127.0.0.1:port. Without
// this, a system Redis on 6379 would answer our readiness probe while our own
// redis-server failed to bind, and the services would use the wrong one.
func checkPortFree(port int) error {
	l, err := net.Listen("tcp", hostPort(port))
	if err != nil {
		return fmt.Errorf("port %d is taken: %w", port, err)
	}
	if err := l.Close(); err != nil {
		return fmt.Errorf("release probe of port %d: %w", port, err)
	}
	return nil
}

func hostPort(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// errNotReady is returned by waitTCP when the deadline passes.
var errNotReady = errors.New("no TCP connection accepted")

// waitTCP polls addr until it accepts a TCP connection, timeout passes or ctx
// is cancelled.
func waitTCP(ctx context.Context, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var d net.Dialer
	for {
		dctx, cancel := context.WithTimeout(ctx, 250*time.Millisecond)
		conn, err := d.DialContext(dctx, "tcp", addr)
		cancel()
		if err == nil {
			return conn.Close()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w on %s within %s: %w", errNotReady, addr, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
