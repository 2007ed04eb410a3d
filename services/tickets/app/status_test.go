package app_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/ticketing/common/events"
)

// A ticket's status through the events, as the orders and payments services
// send them: available -> reserved -> sold, a repeated payment changes
// nothing, and a cancel of the paid order (its payment lost to the hold's
// end and is refunded) puts it back on sale.
func TestStatusFollowsTheEvents(t *testing.T) {
	s := startService(t)
	seller := newUser(t)
	tk := s.create(t, seller, "concert", 20)
	ctx := context.Background()

	type state struct {
		Status  string  `json:"status"`
		Version int64   `json:"version"`
		OrderID *string `json:"orderId"`
	}
	read := func(t require.TestingT) state {
		r, err := s.try(user{}, "GET", "/api/tickets/"+tk.ID, "")
		require.NoError(t, err)
		var got state
		require.NoError(t, jsonUnmarshal(r.body, &got))
		return got
	}
	await := func(want state, msg string) {
		t.Helper()
		require.EventuallyWithT(t, func(c *assert.CollectT) { assert.Equal(c, want, read(c)) }, waitFor, tick, msg)
	}
	paid := func(order string) {
		t.Helper()
		require.NoError(t, s.orders.PublishEvent(ctx, events.PaymentCreated{
			ID: primitive.NewObjectID().Hex(), OrderID: order, StripeID: "ch_1",
		}))
	}

	// afterRepeat pays for another ticket on the same subject, published
	// after the repeat, and waits until it is sold: the repeat has been
	// delivered by then.
	afterRepeat := func(t *testing.T) {
		t.Helper()
		marker := s.create(t, seller, "marker", 5)
		markerOrder := s.reserve(t, marker)
		paid(markerOrder)
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			r, err := s.try(user{}, "GET", "/api/tickets/"+marker.ID, "")
			require.NoError(c, err)
			var got state
			require.NoError(c, jsonUnmarshal(r.body, &got))
			assert.Equal(c, "sold", got.Status)
		}, waitFor, tick)
	}

	assert.Equal(t, state{Status: "available"}, read(t))
	order := s.reserve(t, tk)
	await(state{Status: "reserved", Version: 1, OrderID: &order}, "reserved by order:created")

	paid(order)
	await(state{Status: "sold", Version: 2, OrderID: &order}, "sold by payment:created")
	paid(order)
	afterRepeat(t)
	assert.Equal(t, state{Status: "sold", Version: 2, OrderID: &order}, read(t), "a repeated payment changes nothing")

	require.NoError(t, s.orders.PublishEvent(ctx, events.OrderCancelled{
		ID: order, Version: 1, Ticket: events.OrderCancelledTicket{ID: tk.ID},
	}))
	await(state{Status: "available", Version: 3}, "back on sale once the paid order is cancelled")
	paid(order)
	afterRepeat(t)
	assert.Equal(t, state{Status: "available", Version: 3}, read(t), "a payment for a cancelled order sells nothing")
}
