package crossservice

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/events"
)

// One ticket's life across both services: what the tickets service decides
// is what the orders service ends up holding.
func TestTicketLifeReachesOrdersReplica(t *testing.T) {
	forEachBus(t, func(t *testing.T, bus events.Bus) {
		f := startFleet(t, bus)
		ctx := context.Background()
		seller, buyer := newUser(t), newUser(t)

		var tk ticketJSON
		status, err := call(ctx, seller, http.MethodPost, f.tickets.URL+"/api/tickets", map[string]any{"title": "concert", "price": "20.00"}, &tk)
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, status)
		for i, price := range []float64{25, 30.5} {
			status, err = call(ctx, seller, http.MethodPut, f.tickets.URL+"/api/tickets/"+tk.ID, map[string]any{"title": "concert, row " + string(rune('A'+i)), "price": price}, &tk)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, status)
		}
		require.Equal(t, int64(2), tk.Version)

		// The replica must hold version 2 before the order embeds its copy.
		waitReplicaMatches(t, f, tk.ID)

		var ord orderJSON
		status, err = call(ctx, buyer, http.MethodPost, f.orders.URL+"/api/orders", map[string]any{"ticketId": tk.ID}, &ord)
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, status)
		assert.Equal(t, "created", ord.Status)
		assert.Equal(t, tk.Title, ord.Ticket.Title)
		assert.Equal(t, tk.Price, ord.Ticket.Price)

		// order:created reserves the ticket; its ticket:updated comes back to orders.
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			var got ticketJSON
			status, err := call(ctx, user{}, http.MethodGet, f.tickets.URL+"/api/tickets/"+tk.ID, nil, &got)
			require.NoError(c, err)
			require.Equal(c, http.StatusOK, status)
			assert.Equal(c, ord.ID, got.OrderID)
			assert.Equal(c, int64(3), got.Version)
		}, 20*time.Second, 50*time.Millisecond)
		waitReplicaMatches(t, f, tk.ID)
		assert.NotContains(t, listedIDs(t, f), tk.ID, "a reserved ticket is not on sale")

		status, err = call(ctx, buyer, http.MethodDelete, f.orders.URL+"/api/orders/"+ord.ID, nil, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusNoContent, status)

		require.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.Contains(c, listedIDs(t, f), tk.ID, "a cancelled order puts the ticket back on sale")
		}, 20*time.Second, 50*time.Millisecond)
		final := waitReplicaMatches(t, f, tk.ID)
		assert.Equal(t, int64(4), final.Version)
		assert.Equal(t, "concert, row B", final.Title)
		assert.Equal(t, 30.5, final.Price)
	})
}

// waitReplicaMatches waits until the orders replica of the ticket has the
// tickets service's title, price and version, and returns it.
func waitReplicaMatches(t *testing.T, f *fleet, id string) record {
	t.Helper()
	var want record
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		ctx := context.Background()
		var err error
		want, err = readRecord(ctx, f.ticketsDB, id)
		require.NoError(c, err)
		got, err := readRecord(ctx, f.ordersDB, id)
		require.NoError(c, err)
		assert.Equal(c, want, got)
	}, 20*time.Second, 50*time.Millisecond)
	return want
}

func listedIDs(t *testing.T, f *fleet) []string {
	t.Helper()
	var list []ticketJSON
	status, err := call(context.Background(), user{}, http.MethodGet, f.tickets.URL+"/api/tickets?limit=500", nil, &list)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	ids := make([]string, 0, len(list))
	for _, tk := range list {
		ids = append(ids, tk.ID)
	}
	slices.Sort(ids)
	return ids
}
