// Package crossservice runs several services' real handlers, listeners and
// relays in one process, against one event bus and one FerretDB, and checks
// that what one service writes reaches the others' replicas. Every test runs
// on NATS Streaming and on JetStream.
package crossservice

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/common/events"
	"github.com/ticketing/common/session"
	"github.com/ticketing/common/testkit"
	orders "github.com/ticketing/services/orders/app"
	tickets "github.com/ticketing/services/tickets/app"
)

const jwtKey = "cross-service-test-key"

// fleet is the tickets and orders services sharing one bus, each with its
// own database, as in a cluster.
type fleet struct {
	tickets, orders     *httptest.Server
	ticketsDB, ordersDB *mongo.Database
	bus                 *testkit.NATSServer
	sessions            *session.Manager
}

// newOrdersApp builds an orders service on the fleet's database and bus,
// with a connection of its own, as a restarted process would have.
func (f *fleet) newOrdersApp(t *testing.T) *orders.App {
	t.Helper()
	oa, err := orders.New(context.Background(), orders.Deps{DB: f.ordersDB, Events: f.bus.Connect(t), Sessions: f.sessions, ExpirationWindow: 15 * time.Minute})
	require.NoError(t, err)
	return oa
}

// forEachBus runs test on each bus in turn (not in parallel: the services
// share one FerretDB connection per database, and the heavier tests would
// time each other out).
func forEachBus(t *testing.T, test func(t *testing.T, bus events.Bus)) {
	t.Helper()
	for _, bus := range testkit.Buses() {
		t.Run(string(bus), func(t *testing.T) { test(t, bus) })
	}
}

func startFleet(t *testing.T, busKind events.Bus) *fleet {
	t.Helper()
	sessions, err := session.NewManager(session.Config{Key: []byte(jwtKey)})
	require.NoError(t, err)
	bus := testkit.NATS(t, testkit.WithBus(busKind))
	ctx := context.Background()
	f := &fleet{ticketsDB: testkit.MongoDB(t), ordersDB: testkit.MongoDB(t)}

	ta, err := tickets.New(ctx, tickets.Deps{DB: f.ticketsDB, Events: bus.Connect(t), Sessions: sessions})
	require.NoError(t, err)
	require.NoError(t, ta.Start(ctx))
	t.Cleanup(func() { require.NoError(t, ta.Close()) })

	f.bus, f.sessions = bus, sessions
	oa := f.newOrdersApp(t)
	require.NoError(t, oa.Start(ctx))
	t.Cleanup(func() { require.NoError(t, oa.Close()) })

	f.tickets = httptest.NewServer(ta.Handler())
	t.Cleanup(f.tickets.Close)
	f.orders = httptest.NewServer(oa.Handler())
	t.Cleanup(f.orders.Close)
	return f
}

// user is a signed-in caller.
type user struct{ id, cookie string }

func newUser(t testing.TB) user {
	id := primitive.NewObjectID().Hex()
	return user{id: id, cookie: testkit.Cookie(t, jwtKey, id, id+"@example.com")}
}

// call sends body as JSON and decodes the JSON answer into out (when not nil).
// It returns the status; it is safe from many goroutines, so it reports
// transport errors instead of failing the test from a goroutine.
func call(ctx context.Context, u user, method, url string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if u.cookie != "" {
		req.Header.Set("Cookie", u.cookie)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, err
	}
	if out != nil && len(data) > 0 && res.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			return res.StatusCode, err
		}
	}
	return res.StatusCode, nil
}

type ticketJSON struct {
	ID      string  `json:"id"`
	Title   string  `json:"title"`
	Price   float64 `json:"price"`
	UserID  string  `json:"userId"`
	Version int64   `json:"version"`
	OrderID string  `json:"orderId"`
}

type orderJSON struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Ticket struct {
		ID      string  `json:"id"`
		Title   string  `json:"title"`
		Price   float64 `json:"price"`
		Version int64   `json:"version"`
	} `json:"ticket"`
	Version int64 `json:"version"`
}

// record reads one document as the service stored it.
type record struct {
	Title   string  `bson:"title"`
	Price   float64 `bson:"price"`
	Version int64   `bson:"version"`
}

func readRecord(ctx context.Context, db *mongo.Database, id string) (record, error) {
	oid, err := primitive.ObjectIDFromHex(id)
	if err != nil {
		return record{}, err
	}
	var r record
	err = db.Collection("tickets").FindOne(ctx, bson.M{"_id": oid}).Decode(&r)
	return r, err
}
