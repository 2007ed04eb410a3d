package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
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
	"github.com/ticketing/services/orders/app"
)

const (
	jwtKey = "orders-test-key"
	// waitFor is generous for a loaded 2-core machine running -race; a pass
	// takes milliseconds.
	waitFor = 20 * time.Second
	tick    = 10 * time.Millisecond
)

// harness runs one orders app on its own database and NATS server, served
// over real HTTP, with a second NATS connection for the test's own events.
type harness struct {
	app   *app.App
	url   string
	db    *mongo.Database
	pub   *events.Publisher
	conn  *events.Conn // the test's connection, not the app's
	logs  *testkit.LogBuffer
	clock *clock
}

// clock is the app's Now, moved by the test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var start = time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)

func newHarness(t *testing.T, opts ...events.ListenOption) *harness {
	t.Helper()
	db := testkit.MongoDB(t)
	srv := testkit.NATS(t)
	appConn := srv.Connect(t)
	testConn := srv.Connect(t)
	sessions, err := session.NewManager(session.Config{Key: []byte(jwtKey)})
	require.NoError(t, err)
	logs := &testkit.LogBuffer{}
	clk := &clock{now: start}
	a, err := app.New(context.Background(), app.Deps{
		DB:               db,
		Events:           appConn,
		Sessions:         sessions,
		Logger:           slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:              clk.Now,
		ExpirationWindow: 15 * time.Minute,
		ListenOptions:    append([]events.ListenOption{events.WithAckWait(time.Second)}, opts...),
	})
	require.NoError(t, err)
	require.NoError(t, a.Start(context.Background()))
	// Registered after the connections' cleanups, so it runs before them.
	t.Cleanup(func() { assert.NoError(t, a.Close()) })
	ts := httptest.NewServer(a.Handler())
	t.Cleanup(ts.Close)
	t.Cleanup(func() {
		if t.Failed() {
			for _, r := range logs.Records(t) {
				t.Log(r)
			}
		}
	})
	return &harness{app: a, url: ts.URL, db: db, pub: events.NewPublisher(testConn), conn: testConn, logs: logs, clock: clk}
}

func oid() string { return primitive.NewObjectID().Hex() }

// user is a signed-in buyer.
type user struct {
	id     string
	cookie string
}

func newUser(t *testing.T) user {
	id := oid()
	return user{id: id, cookie: testkit.Cookie(t, jwtKey, id, id+"@test.dev")}
}

var anonymous = user{}

type response struct {
	status int
	body   string
}

func (h *harness) do(t testing.TB, u user, method, path, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, h.url+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if u.cookie != "" {
		req.Header.Set("Cookie", u.cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{status: resp.StatusCode, body: string(b)}
}

func (h *harness) publish(t testing.TB, p events.Payload) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, h.pub.PublishEvent(ctx, p))
}

// replicaTicket is a document of the app's tickets replica.
type replicaTicket struct {
	ID      primitive.ObjectID `bson:"_id"`
	Title   string             `bson:"title"`
	Price   float64            `bson:"price"`
	Version int64              `bson:"version"`
}

// replica reads the app's copy of a ticket; ok is false while it has none.
func (h *harness) replica(t testing.TB, id string) (replicaTicket, bool) {
	t.Helper()
	oid, err := primitive.ObjectIDFromHex(id)
	require.NoError(t, err)
	var doc replicaTicket
	err = h.db.Collection("tickets").FindOne(context.Background(), bson.M{"_id": oid}).Decode(&doc)
	if err == mongo.ErrNoDocuments {
		return doc, false
	}
	require.NoError(t, err)
	return doc, true
}

// waitReplica waits until the replica holds the ticket at version.
func (h *harness) waitReplica(t testing.TB, id string, version int64) replicaTicket {
	t.Helper()
	var got replicaTicket
	require.Eventually(t, func() bool {
		var ok bool
		got, ok = h.replica(t, id)
		return ok && got.Version == version
	}, waitFor, tick, "replica of %s at version %d", id, version)
	return got
}

// ticket publishes ticket:created for a new ticket and waits until the
// app's replica has it.
func (h *harness) ticket(t testing.TB, title string, price float64) string {
	t.Helper()
	id := oid()
	h.publish(t, events.TicketCreated{ID: id, Version: 0, Title: title, Price: price, UserID: oid()})
	h.waitReplica(t, id, 0)
	return id
}

// orderJSON is the contract's Order.
type orderJSON struct {
	ID        string `json:"id"`
	UserID    string `json:"userId"`
	Status    string `json:"status"`
	ExpiresAt string `json:"expiresAt"`
	Ticket    struct {
		ID      string  `json:"id"`
		Title   string  `json:"title"`
		Price   float64 `json:"price"`
		Version int64   `json:"version"`
	} `json:"ticket"`
	Version int64 `json:"version"`
}

func decodeOrder(t testing.TB, r response) orderJSON {
	t.Helper()
	var o orderJSON
	require.NoError(t, json.Unmarshal([]byte(r.body), &o), r.body)
	return o
}

// reserve places u's order for ticketID and requires a 201.
func (h *harness) reserve(t testing.TB, u user, ticketID string) orderJSON {
	t.Helper()
	r := h.do(t, u, "POST", "/api/orders", `{"ticketId":"`+ticketID+`"}`)
	require.Equal(t, http.StatusCreated, r.status, r.body)
	return decodeOrder(t, r)
}

// storedOrder is the raw order document, outbox included.
type storedOrder struct {
	Status      string   `bson:"status"`
	Version     int64    `bson:"version"`
	Reservation string   `bson:"reservation"`
	Outbox      []bson.M `bson:"outbox"`
}

func (h *harness) stored(t testing.TB, id string) storedOrder {
	t.Helper()
	oid, err := primitive.ObjectIDFromHex(id)
	require.NoError(t, err)
	var doc storedOrder
	require.NoError(t, h.db.Collection("orders").FindOne(context.Background(), bson.M{"_id": oid}).Decode(&doc))
	return doc
}

// waitStatus waits until the order is stored with status at version.
func (h *harness) waitStatus(t testing.TB, id, status string, version int64) {
	t.Helper()
	require.Eventually(t, func() bool {
		s := h.stored(t, id)
		return s.Status == status && s.Version == version
	}, waitFor, tick, "order %s %s at version %d", id, status, version)
}

// observer records every message of one subject the app publishes, through
// a queue group of its own.
type observer[T events.Payload] struct {
	mu   sync.Mutex
	msgs []T
}

func observe[T events.Payload](t *testing.T, h *harness) *observer[T] {
	t.Helper()
	o := &observer[T]{}
	l, err := events.Listen(h.conn, "test-observer", func(_ context.Context, msg T, _ events.Meta) error {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.msgs = append(o.msgs, msg)
		return nil
	})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, l.Close()) })
	return o
}

func (o *observer[T]) all() []T {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]T(nil), o.msgs...)
}

// matching returns the messages for which keep is true.
func (o *observer[T]) matching(keep func(T) bool) []T {
	var out []T
	for _, m := range o.all() {
		if keep(m) {
			out = append(out, m)
		}
	}
	return out
}

// waitPublished waits until the app's outbox for the order is empty, that
// is, everything it stored has been published and acked by NATS.
func (h *harness) waitPublished(t testing.TB, id string) {
	t.Helper()
	require.Eventually(t, func() bool { return len(h.stored(t, id).Outbox) == 0 }, waitFor, tick,
		"outbox of order %s drained", id)
}
