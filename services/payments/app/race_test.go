package app_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/events"
)

// race runs do once per racer, all released at the same moment.
func race(n int, do func(i int) response) []response {
	out := make([]response, n)
	var ready, wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		ready.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			ready.Done()
			<-gate
			out[i] = do(i)
		}()
	}
	ready.Wait()
	close(gate)
	wg.Wait()
	return out
}

// Ten payments of one order at once: every request reads the order as
// payable, but only one claims its payment record; one charge reaches
// Stripe, one record and one payment:created exist.
func TestRacingPaymentsChargeOnce(t *testing.T) {
	h := newHarness(t, stripeMock(t))
	created := observe[events.PaymentCreated](t, h)
	buyer := newUser(t)
	orderID := h.order(t, buyer, 20.5)
	const racers = 10

	results := race(racers, func(int) response { return h.pay(t, buyer, orderID, "tok_visa") })
	count := map[int]int{}
	for _, r := range results {
		count[r.status]++
		if r.status != http.StatusCreated {
			assert.JSONEq(t, `{"errors":[{"message":"Order has already been paid"}]}`, r.body)
		}
	}
	assert.Equal(t, map[int]int{http.StatusCreated: 1, http.StatusBadRequest: racers - 1}, count)
	assert.Len(t, h.stripe.to("/v1/charges"), 1, "one charge request reaches Stripe")
	rec := h.payment(t, orderID)
	assert.Equal(t, "charged", rec.Status)
	h.waitPublished(t, orderID)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Len(c, created.all(), 1)
	}, waitFor, tick)
}

// Payments and cancels of many orders racing each other, the cancel
// landing at every stage of the payment (before it, once the payment record
// is claimed, while the charge is at Stripe, after it): no order ends
// cancelled with a charge that is not refunded, and none is refunded twice.
func TestRacingPayAndCancelLeaveNoCancelledOrderCharged(t *testing.T) {
	stripe := newStandIn()
	h := newHarness(t, stripe)
	buyer := newUser(t)
	const orders = 12
	ids := make([]string, orders)
	for i := range ids {
		ids[i] = h.order(t, buyer, 5)
	}
	charging := func(id string) bool {
		for _, c := range h.stripe.to("/v1/charges") {
			if c.IdempotencyKey == id {
				return true
			}
		}
		return false
	}
	stages := []func(id string) bool{
		func(string) bool { return true },
		func(id string) bool { return len(h.payments(t, id)) > 0 },
		charging,
		func(id string) bool { p := h.payments(t, id); return len(p) > 0 && p[0].Status == "charged" },
	}

	results := race(2*orders, func(i int) response {
		id := ids[i/2]
		if i%2 == 0 {
			return h.pay(t, buyer, id, "tok_visa")
		}
		assert.Eventually(t, func() bool { return stages[(i/2)%len(stages)](id) }, waitFor, time.Millisecond)
		h.publish(t, cancelledEvent(id, 1))
		return response{}
	})
	charged := 0
	for i, id := range ids {
		paid := results[2*i]
		switch paid.status {
		case http.StatusCreated:
			charged++
		case http.StatusBadRequest:
			assert.JSONEq(t, `{"errors":[{"message":"Cannot pay for an cancelled order"}]}`, paid.body)
		default:
			t.Errorf("order %s: unexpected %d %s", id, paid.status, paid.body)
		}
		require.Eventually(t, func() bool { return h.cancelsHandled(t, id) >= 1 }, waitFor, tick)
		for _, rec := range h.payments(t, id) {
			if rec.Status == "charged" {
				assert.NotNil(t, rec.Refund, "order %s ended cancelled and charged without a refund", id)
			}
		}
	}
	charges, refunds := stripe.counts()
	assert.Equal(t, charged, charges, "a 201 for every charge, and only for one")
	assert.Equal(t, charges, refunds, "every charge refunded once")
	assert.Len(t, h.stripe.to("/v1/refunds"), refunds, "one refund request per refund")
	assert.GreaterOrEqual(t, charges, orders/2, "the cancels landing mid-charge or later all found a charge")
	t.Logf("%d of %d orders were charged before their cancel took effect", charges, orders)
}
