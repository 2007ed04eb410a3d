package app_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

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

// Many buyers, one ticket: the unique reservation index lets exactly one
// insert through, in every round; cancelling frees the ticket for the next.
func TestRacingBuyersReserveOnce(t *testing.T) {
	h := newHarness(t)
	ticketID := h.ticket(t, "hot", 99)
	const buyers = 20

	for round := 1; round <= 2; round++ {
		users := make([]user, buyers)
		for i := range users {
			users[i] = newUser(t)
		}
		results := race(buyers, func(i int) response {
			return h.do(t, users[i], "POST", "/api/orders", `{"ticketId":"`+ticketID+`"}`)
		})
		winner := -1
		for i, r := range results {
			switch r.status {
			case http.StatusCreated:
				assert.Equal(t, -1, winner, "round %d: a second 201", round)
				winner = i
			default:
				assert.Equal(t, http.StatusBadRequest, r.status, r.body)
				assert.JSONEq(t, `{"errors":[{"message":"Ticket is already reserved"}]}`, r.body)
			}
		}
		require.NotEqual(t, -1, winner, "round %d: nobody got the ticket", round)

		active, err := h.db.Collection("orders").CountDocuments(context.Background(),
			bson.M{"ticket.id": mustOID(t, ticketID), "status": bson.M{"$ne": "cancelled"}})
		require.NoError(t, err)
		assert.Equal(t, int64(1), active, "round %d: one active order for the ticket", round)

		won := decodeOrder(t, results[winner])
		require.Equal(t, http.StatusNoContent, h.do(t, users[winner], "DELETE", "/api/orders/"+won.ID, "").status)
	}
	total, err := h.db.Collection("orders").CountDocuments(context.Background(), bson.M{})
	require.NoError(t, err)
	assert.Equal(t, int64(2), total, "refused buyers left no orders behind")
}

// Many cancels of one order at once: all succeed, one cancel is stored and
// one order:cancelled goes out.
func TestRacingCancelsPublishOnce(t *testing.T) {
	h := newHarness(t)
	cancelled := observe[events.OrderCancelled](t, h)
	buyer := newUser(t)
	o := h.reserve(t, buyer, h.ticket(t, "t", 5))

	results := race(10, func(int) response { return h.do(t, buyer, "DELETE", "/api/orders/"+o.ID, "") })
	for _, r := range results {
		assert.Equal(t, http.StatusNoContent, r.status, r.body)
	}
	stored := h.stored(t, o.ID)
	assert.Equal(t, "cancelled", stored.Status)
	assert.Equal(t, int64(1), stored.Version, "one cancel stored")
	h.waitPublished(t, o.ID)
	require.Eventually(t, func() bool { return len(cancelled.all()) >= 1 }, waitFor, tick)
	assert.Equal(t, []events.OrderCancelled{{ID: o.ID, Version: 1, Ticket: events.OrderCancelledTicket{ID: o.Ticket.ID}}},
		cancelled.all())
}

// A buyer's cancel and a payment race for one order: whichever lands first
// wins, and the other sees it. Either the order is cancelled (the cancel
// answered 204 and announced it) or complete (the cancel answered 400 and
// announced nothing), never a mix.
func TestCancelRacesPayment(t *testing.T) {
	// One worker and one message in flight: the payments are processed in
	// the order published, so once a later probe is processed, all are.
	h := newHarness(t, events.WithWorkers(1), events.WithMaxInflight(1))
	cancelled := observe[events.OrderCancelled](t, h)
	buyer := newUser(t)
	const orders = 8
	ids := make([]string, orders)
	for i := range ids {
		ids[i] = h.reserve(t, buyer, h.ticket(t, "t", 5)).ID
	}
	probe := h.reserve(t, buyer, h.ticket(t, "probe", 5))

	results := race(2*orders, func(i int) response {
		id := ids[i/2]
		if i%2 == 0 {
			return h.do(t, buyer, "DELETE", "/api/orders/"+id, "")
		}
		h.publish(t, events.PaymentCreated{ID: oid(), OrderID: id, StripeID: "ch_1"})
		return response{}
	})
	h.publish(t, events.PaymentCreated{ID: oid(), OrderID: probe.ID, StripeID: "ch_probe"})
	h.waitStatus(t, probe.ID, "complete", 1)

	outcomes := map[int]int{}
	for i, id := range ids {
		r := results[2*i]
		outcomes[r.status]++
		h.waitPublished(t, id)
		stored := h.stored(t, id)
		assert.Equal(t, int64(1), stored.Version, "exactly one of the two changed the order")
		switch r.status {
		case http.StatusNoContent:
			assert.Equal(t, "cancelled", stored.Status, "cancel won: the payment left it cancelled")
			require.Eventually(t, func() bool {
				return len(cancelled.matching(func(e events.OrderCancelled) bool { return e.ID == id })) == 1
			}, waitFor, tick)
		case http.StatusBadRequest:
			assert.JSONEq(t, `{"errors":[{"message":"Cannot cancel a completed order"}]}`, r.body)
			assert.Equal(t, "complete", stored.Status, "payment won: the cancel was refused")
			assert.Empty(t, cancelled.matching(func(e events.OrderCancelled) bool { return e.ID == id }))
		default:
			t.Errorf("order %s: cancel answered %d %s", id, r.status, r.body)
		}
	}
	t.Logf("cancel outcomes by status: %v", outcomes)
}

func mustOID(t testing.TB, id string) primitive.ObjectID {
	t.Helper()
	o, err := primitive.ObjectIDFromHex(id)
	require.NoError(t, err)
	return o
}
