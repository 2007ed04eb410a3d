package app_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Several copies of the service (up --replicas, a Deployment's pods) share
// one queue group and one Redis: each hold fires once, whichever copy heard
// its order:created, even when the event reaches more than one of them.
func TestCopiesFireEachHoldOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for range 3 {
		h.startApp(t)
	}
	const orders = 30
	expiresAt := dueIn(scheduledFor)
	want := map[string]bool{}
	for range orders {
		id := newOrderID()
		want[id] = true
		// Twice each, as a relay copy that repeats an event would: the two
		// deliveries may land on two copies.
		h.orderCreated(t, id, expiresAt)
		h.orderCreated(t, id, expiresAt)
	}

	fired := map[string]int{}
	for range orders {
		fired[h.receive(t, time.Until(expiresAt)+arrival).orderID]++
	}
	h.noMore(t, grace)
	assert.Len(t, fired, orders)
	for id, n := range fired {
		assert.True(t, want[id], "an order nobody created: %s", id)
		assert.Equal(t, 1, n, "order %s fired %d times", id, n)
	}
}
