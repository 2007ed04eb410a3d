package app_test

import (
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"

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
