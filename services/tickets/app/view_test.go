package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/common/events"
	"github.com/ticketing/common/session"
	"github.com/ticketing/common/testkit"
	"github.com/ticketing/services/tickets/app"
)

// fleet is several copies of the tickets service on one database and one
// bus, as replicas of a Deployment are.
type fleet struct {
	bus    *testkit.NATSServer
	db     *mongo.Database
	copies []*service
}

func startFleet(t *testing.T, n int) *fleet {
	t.Helper()
	f := &fleet{bus: testkit.NATS(t), db: testkit.MongoDB(t)}
	for range n {
		f.add(t)
	}
	return f
}

// add starts one more copy; its Start returns once its view is loaded.
func (f *fleet) add(t *testing.T) *service {
	t.Helper()
	sessions, err := session.NewManager(session.Config{Key: []byte(jwtKey)})
	require.NoError(t, err)
	ctx := context.Background()
	a, err := app.New(ctx, app.Deps{DB: f.db, Events: f.bus.Connect(t), Sessions: sessions})
	require.NoError(t, err)
	require.NoError(t, a.Start(ctx))
	t.Cleanup(func() { assert.NoError(t, a.Close()) })
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	s := &service{url: srv.URL, orders: events.NewPublisher(f.bus.Connect(t))}
	f.copies = append(f.copies, s)
	return s
}

// stored is every ticket in the database, by id, as the contract shows it.
func (f *fleet) stored(t require.TestingT) map[string]ticketJSON {
	cur, err := f.db.Collection("tickets").Find(context.Background(), bson.M{})
	require.NoError(t, err)
	var docs []struct {
		ID      primitive.ObjectID `bson:"_id"`
		Title   string             `bson:"title"`
		Price   float64            `bson:"price"`
		UserID  string             `bson:"userId"`
		Version int64              `bson:"version"`
		OrderID string             `bson:"orderId"`
	}
	require.NoError(t, cur.All(context.Background(), &docs))
	out := map[string]ticketJSON{}
	for _, d := range docs {
		tj := ticketJSON{ID: d.ID.Hex(), Title: d.Title, Price: d.Price, UserID: d.UserID, Version: d.Version}
		if d.OrderID != "" {
			order := d.OrderID
			tj.OrderID = &order
		}
		out[tj.ID] = tj
	}
	return out
}

func list(c require.TestingT, s *service, query string) []ticketJSON {
	r, err := s.try(user{}, "GET", "/api/tickets"+query, "")
	require.NoError(c, err)
	require.Equal(c, http.StatusOK, r.status, r.body)
	var out []ticketJSON
	require.NoError(c, jsonUnmarshal(r.body, &out))
	return out
}

// A POST and then a list on the same copy shows the ticket at once; the
// other copy hears of it through the ticket events; a copy started later
// loads it from the store before it serves.
func TestViewReadYourWritesAndConvergence(t *testing.T) {
	f := startFleet(t, 2)
	a, b := f.copies[0], f.copies[1]
	u := newUser(t)

	for i := range 5 {
		created := a.create(t, u, fmt.Sprintf("show %d", i), 10)
		got := list(t, a, "?limit=1")
		require.Len(t, got, 1, "the ticket is listed as soon as the POST returns")
		assert.Equal(t, created, got[0])
	}
	want := list(t, a, "")
	require.Len(t, want, 5)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, want, list(c, b, ""))
	}, waitFor, tick, "the other copy converges through the events")

	reserved := want[2]
	order := a.reserve(t, reserved)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		for _, s := range f.copies {
			got := list(c, s, "")
			assert.Len(c, got, 4)
			assert.NotContains(c, got, reserved)
		}
	}, waitFor, tick, "a reserved ticket leaves every copy's list")
	r := b.do(t, user{}, "GET", "/api/tickets/"+reserved.ID, "")
	require.Equal(t, http.StatusOK, r.status, r.body)
	got := decode[ticketJSON](t, r)
	require.NotNil(t, got.OrderID, "a reserved ticket is read from the store")
	assert.Equal(t, order, *got.OrderID)

	late := f.add(t)
	assert.Equal(t, list(t, a, ""), list(t, late, ""), "a copy started later serves the loaded view at once")
	assert.Equal(t, list(t, a, "?limit=2&before="+want[1].ID), list(t, late, "?limit=2&before="+want[1].ID))
}

// Edits on two copies, reservations and releases from the orders service,
// and reads all race; once the events have gone round, every copy lists
// exactly the stored tickets that are for sale, each at its newest version.
func TestViewConvergesUnderConcurrentWritesEventsAndReads(t *testing.T) {
	f := startFleet(t, 2)
	u := newUser(t)
	var tickets []ticketJSON
	for i := range 8 {
		tickets = append(tickets, f.copies[i%2].create(t, u, fmt.Sprintf("t%d", i), 10))
	}

	var wg sync.WaitGroup
	for i, tk := range tickets {
		wg.Go(func() {
			s := f.copies[i%2]
			for e := range 5 {
				// Refusals (reserved meanwhile) are part of the race.
				_, err := s.try(u, "PUT", "/api/tickets/"+tk.ID, fmt.Sprintf(`{"title":"t%d e%d","price":%d}`, i, e, 10+e))
				assert.NoError(t, err)
			}
		})
		wg.Go(func() {
			s := f.copies[(i+1)%2]
			order := fmt.Sprintf("%024x", 0xa000+i)
			assert.NoError(t, s.orders.PublishEvent(context.Background(), events.OrderCreated{
				ID: order, Status: events.OrderStatusCreated, UserID: u.id, ExpiresAt: timeIn15(),
				Ticket: events.OrderCreatedTicket{ID: tk.ID, Price: 10},
			}))
			if i%2 == 0 {
				assert.NoError(t, s.orders.PublishEvent(context.Background(), events.OrderCancelled{
					ID: order, Version: 1, Ticket: events.OrderCancelledTicket{ID: tk.ID},
				}))
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for _, s := range f.copies {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				r, err := s.try(user{}, "GET", "/api/tickets?limit=3", "")
				assert.NoError(t, err)
				assert.Equal(t, http.StatusOK, r.status)
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		stored := f.stored(c)
		var forSale []ticketJSON
		for _, tk := range tickets {
			if s := stored[tk.ID]; s.OrderID == nil {
				forSale = append([]ticketJSON{s}, forSale...) // newest first
			}
		}
		for i, s := range f.copies {
			assert.Equal(c, forSale, list(c, s, ""), "copy %d lists the stored tickets for sale at their newest version", i)
			for _, tk := range tickets {
				r, err := s.try(user{}, "GET", "/api/tickets/"+tk.ID, "")
				require.NoError(c, err)
				var got ticketJSON
				require.NoError(c, jsonUnmarshal(r.body, &got))
				assert.Equal(c, stored[tk.ID], got, "copy %d, ticket %s", i, tk.ID)
			}
		}
	}, waitFor, tick)
}

func timeIn15() time.Time { return time.Now().Add(15 * time.Minute) }
