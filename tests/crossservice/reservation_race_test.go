package crossservice

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/events"
	"go.mongodb.org/mongo-driver/bson"
)

// Many buyers, many tickets, all at the same moment: every ticket is sold
// exactly once, and the losers are told it is reserved.
func TestRacingBuyersAcrossTickets(t *testing.T) {
	forEachBus(t, func(t *testing.T, bus events.Bus) {
		const tickets, buyers = 20, 50
		f := startFleet(t, bus)
		ctx := context.Background()
		seller := newUser(t)

		ids := make([]string, tickets)
		for i := range ids {
			var tk ticketJSON
			status, err := call(ctx, seller, http.MethodPost, f.tickets.URL+"/api/tickets", map[string]any{"title": fmt.Sprintf("seat %d", i), "price": 10}, &tk)
			require.NoError(t, err)
			require.Equal(t, http.StatusCreated, status)
			ids[i] = tk.ID
		}
		for _, id := range ids {
			waitReplicaMatches(t, f, id)
		}

		type outcome struct {
			ticket int
			status int
			err    error
		}
		results := make(chan outcome, tickets*buyers)
		gate := make(chan struct{})
		var wg sync.WaitGroup
		for ti, id := range ids {
			for range buyers {
				buyer := newUser(t)
				wg.Go(func() {
					<-gate
					status, err := call(ctx, buyer, http.MethodPost, f.orders.URL+"/api/orders", map[string]any{"ticketId": id}, nil)
					results <- outcome{ticket: ti, status: status, err: err}
				})
			}
		}
		close(gate)
		wg.Wait()
		close(results)

		wins := make([]int, tickets)
		for r := range results {
			require.NoError(t, r.err)
			switch r.status {
			case http.StatusCreated:
				wins[r.ticket]++
			case http.StatusBadRequest:
			default:
				t.Errorf("ticket %d: unexpected status %d", r.ticket, r.status)
			}
		}
		for i, n := range wins {
			assert.Equal(t, 1, n, "ticket %d: orders created", i)
		}
		active, err := f.ordersDB.Collection("orders").CountDocuments(ctx, bson.M{"status": "created"})
		require.NoError(t, err)
		assert.Equal(t, int64(tickets), active, "one active order per ticket in the database: 0 double reservations")
	})
}
