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

// window is the harness's hold (ExpirationWindow).
const window = 15 * time.Minute

const reservedBody = `{"errors":[{"message":"Ticket is already reserved"}]}`

// cancelsOf is how many order:cancelled the observer has seen for id.
func cancelsOf(o *observer[events.OrderCancelled], id string) int {
	return len(o.matching(func(e events.OrderCancelled) bool { return e.ID == id }))
}

// A hold ends at its expiresAt for the next buyer, whether or not its timer
// has fired: from then on a POST takes the ticket over, cancelling the hold
// as the timer would. Before then the ticket stays reserved.
func TestNextBuyerAfterExpiresAt(t *testing.T) {
	tests := []struct {
		name     string
		after    time.Duration // past the first order's expiresAt
		takeover bool
	}{
		{"a millisecond before expiresAt", -time.Millisecond, false},
		{"a millisecond after expiresAt", time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// One worker, one message in flight: expiration:complete events
			// are handled in the order published (see the probe below).
			h := newHarness(t, events.WithWorkers(1), events.WithMaxInflight(1))
			cancelled := observe[events.OrderCancelled](t, h)
			first, next := newUser(t), newUser(t)
			ticketID := h.ticket(t, "concert", 20)
			held := h.reserve(t, first, ticketID)
			h.waitPublished(t, held.ID)

			h.clock.Advance(window + tt.after)
			r := h.do(t, next, "POST", "/api/orders", `{"ticketId":"`+ticketID+`"}`)
			if !tt.takeover {
				assert.Equal(t, http.StatusBadRequest, r.status, r.body)
				assert.JSONEq(t, reservedBody, r.body)
				stored := h.stored(t, held.ID)
				assert.Equal(t, "created", stored.Status)
				assert.Equal(t, int64(0), stored.Version)
				assert.Empty(t, stored.Outbox)
				return
			}
			require.Equal(t, http.StatusCreated, r.status, r.body)
			taken := decodeOrder(t, r)
			assert.Equal(t, next.id, taken.UserID)
			assert.Equal(t, "created", taken.Status)

			stored := h.stored(t, held.ID)
			assert.Equal(t, "cancelled", stored.Status)
			assert.Equal(t, int64(1), stored.Version, "one version up, as Expire does")
			assert.Equal(t, "cancelled:"+held.ID, stored.Reservation, "the ticket freed")
			assert.Equal(t, ticketID, h.stored(t, taken.ID).Reservation, "and held by the new order")
			h.waitPublished(t, held.ID)
			require.Eventually(t, func() bool { return cancelsOf(cancelled, held.ID) == 1 }, waitFor, tick)
			assert.Equal(t, events.OrderCancelled{ID: held.ID, Version: 1, Ticket: events.OrderCancelledTicket{ID: ticketID}},
				cancelled.matching(func(e events.OrderCancelled) bool { return e.ID == held.ID })[0])

			// The timer fires late and the first buyer cancels too: neither
			// cancels again. A probe expired after them shows when the
			// timer's event has been handled.
			h.publish(t, events.ExpirationComplete{OrderID: held.ID})
			assert.Equal(t, http.StatusNoContent, h.do(t, first, "DELETE", "/api/orders/"+held.ID, "").status)
			probe := h.reserve(t, newUser(t), h.ticket(t, "probe", 5))
			h.publish(t, events.ExpirationComplete{OrderID: probe.ID})
			require.Eventually(t, func() bool { return cancelsOf(cancelled, probe.ID) == 1 }, waitFor, tick)
			assert.Equal(t, 1, cancelsOf(cancelled, held.ID), "cancelled exactly once")
			assert.Equal(t, int64(1), h.stored(t, held.ID).Version)
			assert.Equal(t, "created", h.stored(t, taken.ID).Status, "the new order is untouched")
		})
	}
}

// Many buyers at once on a lapsed hold: one new order, the hold cancelled
// once, everyone else refused.
func TestRacingBuyersOnLapsedHold(t *testing.T) {
	h := newHarness(t)
	cancelled := observe[events.OrderCancelled](t, h)
	ticketID := h.ticket(t, "hot", 99)
	held := h.reserve(t, newUser(t), ticketID)
	h.clock.Advance(window + time.Millisecond)

	const buyers = 20
	users := make([]user, buyers)
	for i := range users {
		users[i] = newUser(t)
	}
	results := race(buyers, func(i int) response {
		return h.do(t, users[i], "POST", "/api/orders", `{"ticketId":"`+ticketID+`"}`)
	})
	var won []string
	for _, r := range results {
		if r.status == http.StatusCreated {
			won = append(won, decodeOrder(t, r).ID)
			continue
		}
		assert.Equal(t, http.StatusBadRequest, r.status, r.body)
		assert.JSONEq(t, reservedBody, r.body)
	}
	require.Len(t, won, 1, "exactly one buyer takes the ticket")

	active, err := h.db.Collection("orders").CountDocuments(context.Background(),
		bson.M{"ticket.id": mustOID(t, ticketID), "status": bson.M{"$ne": "cancelled"}})
	require.NoError(t, err)
	assert.Equal(t, int64(1), active)
	total, err := h.db.Collection("orders").CountDocuments(context.Background(), bson.M{})
	require.NoError(t, err)
	assert.Equal(t, int64(2), total, "refused buyers left no orders behind")

	stored := h.stored(t, held.ID)
	assert.Equal(t, "cancelled", stored.Status)
	assert.Equal(t, int64(1), stored.Version, "one cancel stored")
	h.waitPublished(t, held.ID)
	require.Eventually(t, func() bool { return cancelsOf(cancelled, held.ID) >= 1 }, waitFor, tick)
	assert.Equal(t, 1, cancelsOf(cancelled, held.ID), "cancelled exactly once")
}
