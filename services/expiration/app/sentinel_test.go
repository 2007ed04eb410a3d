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

// Under Sentinel with replicas, an order's timer is not taken as scheduled
// until every online replica has it: a master killed right after the write
// would lose it in the failover, and the Sentinels may promote any replica,
// not the one that had the write. While one of two replicas does not
// answer, order:created is not acked and comes back; once it does, the
// timer is on both and fires.
func TestTimerWaitsForEveryReplica(t *testing.T) {
	t.Parallel()
	opt, replicas := redistest.SentinelWithReplicas(t, 2)
	h := newHarnessOn(t, opt)
	h.startApp(t)

	onReplica := func(addr, id string) bool {
		insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: addr})
		defer insp.Close()
		_, err := insp.GetTaskInfo(expiry.Queue, id)
		return err == nil
	}

	// Scheduled and replicated at once while the replicas answer.
	first := newOrderID()
	h.orderCreated(t, first, time.Now().Add(scheduledFor))
	require.Eventually(t, func() bool { return h.logs.Count(t, "hold timer scheduled", nil) == 1 }, waitFor, 20*time.Millisecond)
	for _, r := range replicas {
		assert.True(t, onReplica(r.Addr, first), "the first timer was taken as scheduled before replica %s had it", r.Addr)
	}

	// One paused replica acknowledges nothing: the other one having the
	// timer is not enough, and the order:created is failed, not acked.
	paused := replicas[1]
	require.NoError(t, paused.Process.Signal(syscall.SIGSTOP))
	second := newOrderID()
	expiresAt := time.Now().Add(scheduledFor + 5*time.Second)
	h.orderCreated(t, second, expiresAt)
	require.Eventually(t, func() bool {
		return strings.Contains(h.logs.String(), "is not on a replica yet")
	}, waitFor, 20*time.Millisecond, "a timer one replica lacks was taken as scheduled")
	assert.Equal(t, 1, h.logs.Count(t, "hold timer scheduled", nil))
	assert.True(t, onReplica(replicas[0].Addr, second), "the replica that answers has the timer")

	require.NoError(t, paused.Process.Signal(syscall.SIGCONT))
	got := map[string]bool{}
	for range 2 {
		got[h.receive(t, time.Until(expiresAt)+arrival).orderID] = true
	}
	assert.Equal(t, map[string]bool{first: true, second: true}, got, "both holds end")
}
