package app_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"

	"github.com/ticketing/common/events"
)

// handlerFailures counts deliveries of subject the app left unacked with an
// error containing errText.
func (h *harness) handlerFailures(t testing.TB, subject events.Subject, errText string) int {
	return h.logs.Count(t, "handler failed; leaving the message unacked for redelivery",
		map[string]any{"subject": string(subject), "err": errText})
}

func TestOrderCreatedFillsReplica(t *testing.T) {
	h := newHarness(t, newStandIn())
	buyer := newUser(t)
	id := oid()
	expires := time.Date(2026, 1, 2, 3, 19, 5, 678_000_000, time.UTC)

	// A message that can never be processed is acked and does not hold up the rest.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, h.pub.Publish(ctx, string(events.SubjectOrderCreated), []byte(`not json`)))

	h.publish(t, createdEvent(id, buyer.id, 20.5, expires))
	got := h.waitReplica(t, id, events.OrderStatusCreated, 0)
	assert.Equal(t, replicaOrder{ID: mustOID(t, id), Version: 0, UserID: buyer.id, Price: 20.5,
		Status: events.OrderStatusCreated, ExpiresAt: expires}, got)

	// A repeat is acked and changes nothing.
	again := createdEvent(id, buyer.id, 99, expires)
	h.publish(t, again)
	require.Eventually(t, func() bool {
		return h.logs.Count(t, "order created handled", map[string]any{"orderId": id, "applied": false}) == 1
	}, waitFor, tick)
	got, _ = h.replica(t, id)
	assert.Equal(t, 20.5, got.Price)
	assert.Zero(t, h.handlerFailures(t, events.SubjectOrderCreated, ""), "nothing left for redelivery")
	assert.Equal(t, 1, h.logs.Count(t, "poison message: undecodable or invalid payload, acking so it does not block the queue", nil))
}

// order:cancelled is terminal (CONTRACT.md §3): it applies over any older
// version at once, and before its order:created it keeps a cancelled order
// that the late order:created fills in but never revives. Nothing waits for
// a redelivery.
func TestOrderCancelledIsTerminal(t *testing.T) {
	h := newHarness(t, newStandIn())
	buyer := newUser(t)

	t.Run("before its order:created, the order stays cancelled and the create fills it in", func(t *testing.T) {
		id := oid()
		expires := start.Add(time.Hour)
		h.publish(t, cancelledEvent(id, 1))
		got := h.waitReplica(t, id, events.OrderStatusCancelled, 1)
		assert.Empty(t, got.UserID, "nothing but the cancel is known yet")
		r := h.pay(t, buyer, id, "tok_visa")
		assert.Equal(t, http.StatusNotFound, r.status, "whose order it is is not known yet: %s", r.body)

		h.publish(t, createdEvent(id, buyer.id, 10, expires))
		require.Eventually(t, func() bool {
			return h.logs.Count(t, "order created handled", map[string]any{"orderId": id, "applied": false}) == 1
		}, waitFor, tick)
		got, _ = h.replica(t, id)
		assert.Equal(t, replicaOrder{ID: mustOID(t, id), Version: 1, UserID: buyer.id, Price: 10,
			Status: events.OrderStatusCancelled, ExpiresAt: expires}, got, "cancelled, with the created fields filled in")

		r = h.pay(t, buyer, id, "tok_visa")
		assert.Equal(t, http.StatusBadRequest, r.status, r.body)
		assert.Contains(t, r.body, "Cannot pay for an cancelled order")
		h.publish(t, createdEvent(id, buyer.id, 99, expires))
		require.Eventually(t, func() bool {
			return h.logs.Count(t, "order created handled", map[string]any{"orderId": id, "applied": false}) == 2
		}, waitFor, tick)
		again, _ := h.replica(t, id)
		assert.Equal(t, got, again, "a repeated create changes nothing")
	})

	t.Run("over any older version: version 2 on version 0 applies at once", func(t *testing.T) {
		id := h.order(t, buyer, 10)
		h.publish(t, cancelledEvent(id, 2))
		h.waitReplica(t, id, events.OrderStatusCancelled, 2)
		h.cancel(t, id) // version 1, late
		h.waitReplica(t, id, events.OrderStatusCancelled, 2)
	})

	t.Run("version 1 on version 0 applies; its repeat is acked", func(t *testing.T) {
		id := h.order(t, buyer, 10)
		h.cancel(t, id)
		h.waitReplica(t, id, events.OrderStatusCancelled, 1)
		h.cancel(t, id)
		assert.Equal(t, 1, h.logs.Count(t, "order cancel handled", map[string]any{"orderId": id, "applied": true}))
		assert.Equal(t, 1, h.logs.Count(t, "order cancel handled", map[string]any{"orderId": id, "applied": false}))
		h.waitReplica(t, id, events.OrderStatusCancelled, 1)
		assert.Empty(t, h.stripe.to("/v1/refunds"), "an order never charged is not refunded")
	})

	assert.Zero(t, h.handlerFailures(t, events.SubjectOrderCancelled, ""), "nothing left for redelivery")
	assert.Zero(t, h.handlerFailures(t, events.SubjectOrderCreated, ""), "nothing left for redelivery")
}

// A cancel of a charged order refunds the charge once: not again for a
// duplicate, a redelivery, or deliveries racing each other.
func TestCancelAfterChargeRefundsOnce(t *testing.T) {
	stripe := newStandIn()
	h := newHarness(t, stripe)
	buyer := newUser(t)

	t.Run("redelivered", func(t *testing.T) {
		orderID := h.order(t, buyer, 20.5)
		h.paid(t, buyer, orderID, "tok_visa")
		stripeID := h.payment(t, orderID).StripeID

		h.cancel(t, orderID)
		refunds := h.stripe.to("/v1/refunds")
		require.Len(t, refunds, 1)
		assert.Equal(t, stripeID, refunds[0].Form.Get("charge"))
		assert.Equal(t, "refund-"+orderID, refunds[0].IdempotencyKey)
		rec := h.payment(t, orderID)
		require.NotNil(t, rec.Refund, "the refund is recorded on the payment")
		assert.Equal(t, "re_standin_1", rec.Refund.ID)
		assert.Equal(t, "charged", rec.Status)

		h.cancel(t, orderID)
		h.cancel(t, orderID)
		assert.Len(t, h.stripe.to("/v1/refunds"), 1, "duplicates refund nothing more")
	})

	t.Run("racing deliveries", func(t *testing.T) {
		orderID := h.order(t, buyer, 20.5)
		h.paid(t, buyer, orderID, "tok_visa")
		release := stripe.holdRefundsUntil(t)
		refundsBefore := len(h.stripe.to("/v1/refunds"))
		inFlightBefore := h.handlerFailures(t, events.SubjectOrderCancelled, "a refund of this order is in flight")

		for range 3 {
			h.publish(t, cancelledEvent(orderID, 1))
		}
		// One delivery holds the refund at Stripe; the others find it in flight.
		require.Eventually(t, func() bool {
			return len(h.stripe.to("/v1/refunds")) == refundsBefore+1 &&
				h.handlerFailures(t, events.SubjectOrderCancelled, "a refund of this order is in flight") >= inFlightBefore+2
		}, waitFor, tick)
		release()
		require.Eventually(t, func() bool { return h.cancelsHandled(t, orderID) == 3 }, waitFor, tick,
			"every delivery is acked in the end")
		assert.Len(t, h.stripe.to("/v1/refunds"), refundsBefore+1, "one refund request")
		require.NotNil(t, h.payment(t, orderID).Refund)
	})

	t.Run("stopped between storing the cancel and refunding", func(t *testing.T) {
		orderID := h.order(t, buyer, 20.5)
		h.paid(t, buyer, orderID, "tok_visa")
		refundsBefore := len(h.stripe.to("/v1/refunds"))
		// As a process that stored the cancel and died before the refund
		// leaves it; the message was not acked, so it comes again.
		_, err := h.db.Collection("orders").UpdateOne(context.Background(), bson.M{"_id": mustOID(t, orderID)},
			bson.M{"$set": bson.M{"status": events.OrderStatusCancelled, "version": 1}})
		require.NoError(t, err)

		h.cancel(t, orderID)
		assert.Len(t, h.stripe.to("/v1/refunds"), refundsBefore+1)
		require.NotNil(t, h.payment(t, orderID).Refund)
	})
}

// A cancel that lands while the charge is at Stripe: the cancel waits for
// the charge's outcome, then refunds it.
func TestCancelDuringChargeIsRefundedAfterIt(t *testing.T) {
	stripe := newStandIn()
	h := newHarness(t, stripe)
	release := stripe.holdChargesUntil(t)
	buyer := newUser(t)
	orderID := h.order(t, buyer, 20.5)

	paid := make(chan response, 1)
	go func() { paid <- h.pay(t, buyer, orderID, "tok_visa") }()
	require.Eventually(t, func() bool { return len(h.stripe.to("/v1/charges")) == 1 }, waitFor, tick)

	h.publish(t, cancelledEvent(orderID, 1))
	require.Eventually(t, func() bool {
		return h.handlerFailures(t, events.SubjectOrderCancelled, "a charge of this order is in flight") >= 1
	}, waitFor, tick)
	h.waitReplica(t, orderID, events.OrderStatusCancelled, 1)
	release()

	r := <-paid
	assert.Equal(t, http.StatusCreated, r.status, r.body)
	require.Eventually(t, func() bool { return h.cancelsHandled(t, orderID) == 1 }, waitFor, tick)
	rec := h.payment(t, orderID)
	require.NotNil(t, rec.Refund, "the charge that raced the cancel is refunded")
	refunds := h.stripe.to("/v1/refunds")
	require.Len(t, refunds, 1)
	assert.Equal(t, rec.StripeID, refunds[0].Form.Get("charge"))
}

// A charge whose answer was lost, on an order that is then cancelled: the
// cancel repeats the very same request, learns the charge from Stripe's
// idempotency record, and refunds it.
func TestCancelOfInterruptedChargeFindsAndRefundsIt(t *testing.T) {
	stripe := newStandIn()
	stripe.loseAnswers = 1
	h := newHarness(t, stripe)
	buyer := newUser(t)
	orderID := h.order(t, buyer, 20.5)

	r := h.pay(t, buyer, orderID, "tok_visa")
	require.Equal(t, http.StatusServiceUnavailable, r.status, r.body)

	h.cancel(t, orderID)
	calls := h.stripe.to("/v1/charges")
	require.Len(t, calls, 2)
	assert.Equal(t, calls[0], calls[1], "the repeat is the same request")
	charges, refunds := stripe.counts()
	assert.Equal(t, 1, charges)
	assert.Equal(t, 1, refunds)
	rec := h.payment(t, orderID)
	assert.Equal(t, "ch_standin_1", rec.StripeID)
	require.NotNil(t, rec.Refund)
}
