package crossservice

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/events"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
)

// The seed's concurrency check: many tickets, each created and then updated
// to price 10 and then 15, with every sequence in flight at once. When the
// events have settled, both services agree on every ticket.
func TestConcurrentEditsConverge(t *testing.T) {
	forEachBus(t, func(t *testing.T, bus events.Bus) {
		const sequences = 200
		f := startFleet(t, bus)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		seller := newUser(t)

		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			failures []string
			ids      = make([]string, sequences)
			start    = make(chan struct{})
		)
		fail := func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			failures = append(failures, fmt.Sprintf(format, args...))
		}
		for i := range sequences {
			wg.Go(func() {
				<-start
				var tk ticketJSON
				status, err := call(ctx, seller, http.MethodPost, f.tickets.URL+"/api/tickets", map[string]any{"title": fmt.Sprintf("ticket %d", i), "price": 5}, &tk)
				if err != nil || status != http.StatusCreated {
					fail("create %d: status %d, err %v", i, status, err)
					return
				}
				ids[i] = tk.ID
				for _, price := range []float64{10, 15} {
					status, err := call(ctx, seller, http.MethodPut, f.tickets.URL+"/api/tickets/"+tk.ID, map[string]any{"title": tk.Title, "price": price}, nil)
					if err != nil || status != http.StatusOK {
						fail("update %d to %v: status %d, err %v", i, price, status, err)
						return
					}
				}
			})
		}
		close(start)
		wg.Wait()
		require.Empty(t, failures)

		require.EventuallyWithT(t, func(c *assert.CollectT) {
			mismatches := 0
			want := readAll(c, f.ticketsDB.Collection("tickets"))
			got := readAll(c, f.ordersDB.Collection("tickets"))
			for _, id := range ids {
				w, g := want[id], got[id]
				if w.Price != 15 || w.Version != 2 || w != g {
					mismatches++
				}
			}
			assert.Zero(c, mismatches, "tickets whose price is not 15 with version 2 in both services")
		}, 90*time.Second, 250*time.Millisecond)
	})
}

func readAll(c *assert.CollectT, coll *mongo.Collection) map[string]record {
	ctx := context.Background()
	cur, err := coll.Find(ctx, bson.M{})
	require.NoError(c, err)
	var docs []struct {
		ID      primitive.ObjectID `bson:"_id"`
		Title   string             `bson:"title"`
		Price   float64            `bson:"price"`
		Version int64              `bson:"version"`
	}
	require.NoError(c, cur.All(ctx, &docs))
	out := make(map[string]record, len(docs))
	for _, d := range docs {
		out[d.ID.Hex()] = record{Title: d.Title, Price: d.Price, Version: d.Version}
	}
	return out
}
