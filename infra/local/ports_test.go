package main

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFreePorts(t *testing.T) {
	ports, err := freePorts(8)
	require.NoError(t, err)
	require.Len(t, ports, 8)
	seen := map[int]bool{}
	for _, p := range ports {
		assert.False(t, seen[p], "port %d returned twice", p)
		seen[p] = true
		assert.NoError(t, checkPortFree(p))
	}
}

func TestCheckPortFreeReportsTakenPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })

	err = checkPortFree(l.Addr().(*net.TCPAddr).Port)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is taken")
}

func TestWaitTCP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()

	require.NoError(t, waitTCP(context.Background(), addr, time.Second))

	require.NoError(t, l.Close())
	err = waitTCP(context.Background(), addr, 200*time.Millisecond)
	require.ErrorIs(t, err, errNotReady)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, waitTCP(ctx, addr, time.Minute), context.Canceled)
}
