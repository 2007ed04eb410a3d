package app_test

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/services/expiration/internal/expiry"
	"github.com/ticketing/services/expiration/internal/redistest"
)

// Hold timers reached through a Sentinel, as a Redis set up for failover is
// (issue 15): the timer is kept in the Redis the Sentinel names, and fires.
func TestTimersThroughASentinel(t *testing.T) {
	t.Parallel()
	h := newHarnessOn(t, redistest.Sentinel(t))
	h.startApp(t)

	id := newOrderID()
	expiresAt := time.Now().Add(scheduledFor)
	h.orderCreated(t, id, expiresAt)
	h.waitForState(t, id, asynq.TaskStateScheduled)
	got := h.receive(t, scheduledFor+arrival)
	assert.Equal(t, id, got.orderID)
}

// Under Sentinel with a replica, an order's timer is not taken as scheduled
// until the replica has it: a master killed right after the write would
// lose it in the failover, and the hold would never end. While the replica
// does not answer, order:created is not acked and comes back; once it
// does, the timer is on the replica and fires.
func TestTimerWaitsForAReplica(t *testing.T) {
	t.Parallel()
	opt, replica := redistest.SentinelWithReplica(t)
	h := newHarnessOn(t, opt)
	h.startApp(t)

	// Scheduled and replicated at once while the replica answers.
	first := newOrderID()
	h.orderCreated(t, first, time.Now().Add(scheduledFor))
	onReplica := asynq.NewInspector(asynq.RedisClientOpt{Addr: replica.Addr})
	t.Cleanup(func() { _ = onReplica.Close() })
	require.Eventually(t, func() bool {
		_, err := onReplica.GetTaskInfo(expiry.Queue, first)
		return err == nil
	}, waitFor, 20*time.Millisecond, "the first timer never reached the replica")
	require.Eventually(t, func() bool { return h.logs.Count(t, "hold timer scheduled", nil) == 1 }, waitFor, 20*time.Millisecond)

	// A paused replica acknowledges nothing: the order:created is failed,
	// not acked.
	require.NoError(t, replica.Process.Signal(syscall.SIGSTOP))
	second := newOrderID()
	expiresAt := time.Now().Add(scheduledFor + 5*time.Second)
	h.orderCreated(t, second, expiresAt)
	require.Eventually(t, func() bool {
		return strings.Contains(h.logs.String(), "is not on a replica yet")
	}, waitFor, 20*time.Millisecond, "the unreplicated timer was taken as scheduled")
	assert.Equal(t, 1, h.logs.Count(t, "hold timer scheduled", nil))

	require.NoError(t, replica.Process.Signal(syscall.SIGCONT))
	got := map[string]bool{}
	for range 2 {
		got[h.receive(t, time.Until(expiresAt)+arrival).orderID] = true
	}
	assert.Equal(t, map[string]bool{first: true, second: true}, got, "both holds end")
}
