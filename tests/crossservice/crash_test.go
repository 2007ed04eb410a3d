package crossservice

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/events"
	"go.mongodb.org/mongo-driver/bson"
)

// An orders process that stores an order and dies before its relay
// publishes: the event waits in the order's outbox, and the next process
// sends it, so the ticket still gets reserved.
func TestOrderWrittenBeforeACrashStillReservesTheTicket(t *testing.T) {
	forEachBus(t, func(t *testing.T, bus events.Bus) {
		f := startFleet(t, bus)
		ctx := context.Background()
		seller, buyer := newUser(t), newUser(t)

		var tk ticketJSON
		status, err := call(ctx, seller, http.MethodPost, f.tickets.URL+"/api/tickets", map[string]any{"title": "late", "price": 12}, &tk)
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, status)
		waitReplicaMatches(t, f, tk.ID)

		// The doomed process: it serves requests, but its relay never runs (it
		// is never started), as if it were killed right after the write.
		doomed := httptest.NewServer(f.newOrdersApp(t).Handler())
		var ord orderJSON
		status, err = call(ctx, buyer, http.MethodPost, doomed.URL+"/api/orders", map[string]any{"ticketId": tk.ID}, &ord)
		doomed.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, status)

		pending, err := f.ordersDB.Collection("orders").CountDocuments(ctx, bson.M{"outbox.0": bson.M{"$exists": true}})
		require.NoError(t, err)
		require.Equal(t, int64(1), pending, "the order:created event is still in the order's outbox")

		// The restarted process.
		restarted := f.newOrdersApp(t)
		require.NoError(t, restarted.Start(ctx))
		t.Cleanup(func() { require.NoError(t, restarted.Close()) })

		require.EventuallyWithT(t, func(c *assert.CollectT) {
			var got ticketJSON
			status, err := call(ctx, user{}, http.MethodGet, f.tickets.URL+"/api/tickets/"+tk.ID, nil, &got)
			require.NoError(c, err)
			require.Equal(c, http.StatusOK, status)
			assert.Equal(c, ord.ID, got.OrderID, "the ticket is reserved by the order written before the crash")
		}, 20*time.Second, 50*time.Millisecond)
	})
}
