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
	"github.com/ticketing/services/payments/app"
)

const (
	jwtKey = "payments-test-key"
	// waitFor is generous for a loaded 2-core machine running -race; a pass
	// takes milliseconds.
	waitFor = 20 * time.Second
	tick    = 10 * time.Millisecond
)

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

// harness runs one payments app on its own database and NATS server, served
// over real HTTP, with Stripe behind a recorder, and a second NATS
// connection for the test's own events.
type harness struct {
	app    *app.App
	url    string
	db     *mongo.Database
	pub    *events.Publisher
	conn   *events.Conn // the test's connection, not the app's
	logs   *testkit.LogBuffer
	clock  *clock
	stripe *recorder
}

// newHarness starts the app with Stripe played by stripe (stripe-mock
// behind a proxy, or a stand-in).
func newHarness(t *testing.T, stripe http.Handler, opts ...events.ListenOption) *harness {
	t.Helper()
	db := testkit.MongoDB(t)
	srv := testkit.NATS(t)
	appConn := srv.Connect(t)
	testConn := srv.Connect(t)
	rec := newRecorder(t, stripe)
	sessions, err := session.NewManager(session.Config{Key: []byte(jwtKey)})
	require.NoError(t, err)
	logs := &testkit.LogBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	clk := &clock{now: start}
	a, err := app.New(context.Background(), app.Deps{
		DB:                  db,
		Events:              appConn,
		Sessions:            sessions,
		Logger:              logger,
		Now:                 clk.Now,
		Stripe:              app.NewStripeClient(app.StripeConfig{Key: "sk_test_123", APIBase: rec.URL, Logger: logger}),
		StripeWebhookSecret: webhookSecret,
		ListenOptions:       append([]events.ListenOption{events.WithAckWait(time.Second)}, opts...),
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
	return &harness{app: a, url: ts.URL, db: db, pub: events.NewPublisher(testConn), conn: testConn,
		logs: logs, clock: clk, stripe: rec}
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

// do sends one request. It, publish and payments report failures with
// assert, not require, so racing goroutines may call them.
func (h *harness) do(t testing.TB, u user, method, path, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, h.url+path, strings.NewReader(body))
	if !assert.NoError(t, err) {
		return response{}
	}
	req.Header.Set("Content-Type", "application/json")
	if u.cookie != "" {
		req.Header.Set("Cookie", u.cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if !assert.NoError(t, err) {
		return response{}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	assert.NoError(t, err)
	return response{status: resp.StatusCode, body: string(b)}
}

// pay is POST /api/payments for orderID with token.
func (h *harness) pay(t testing.TB, u user, orderID, token string) response {
	t.Helper()
	return h.do(t, u, "POST", "/api/payments", `{"token":"`+token+`","orderId":"`+orderID+`"}`)
}

// paid requires a 201 and returns the payment id.
func (h *harness) paid(t testing.TB, u user, orderID, token string) string {
	t.Helper()
	r := h.pay(t, u, orderID, token)
	require.Equal(t, http.StatusCreated, r.status, r.body)
	var body struct{ ID string }
	require.NoError(t, json.Unmarshal([]byte(r.body), &body))
	require.Regexp(t, `^[0-9a-f]{24}$`, body.ID)
	assert.JSONEq(t, `{"id":"`+body.ID+`"}`, r.body, "201 {id} and nothing else")
	return body.ID
}

func (h *harness) publish(t testing.TB, p events.Payload) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	assert.NoError(t, h.pub.PublishEvent(ctx, p))
}

// replicaOrder is a document of the app's orders replica.
type replicaOrder struct {
	ID        primitive.ObjectID `bson:"_id"`
	Version   int64              `bson:"version"`
	UserID    string             `bson:"userId"`
	Price     float64            `bson:"price"`
	Status    string             `bson:"status"`
	ExpiresAt time.Time          `bson:"expiresAt"`
}

// replica reads the app's copy of an order; ok is false while it has none.
func (h *harness) replica(t testing.TB, id string) (replicaOrder, bool) {
	t.Helper()
	var doc replicaOrder
	oid, err := primitive.ObjectIDFromHex(id)
	if !assert.NoError(t, err) {
		return doc, false
	}
	err = h.db.Collection("orders").FindOne(context.Background(), bson.M{"_id": oid}).Decode(&doc)
	if err == mongo.ErrNoDocuments {
		return doc, false
	}
	return doc, assert.NoError(t, err)
}

// waitReplica waits until the replica holds the order with status at version.
func (h *harness) waitReplica(t testing.TB, id, status string, version int64) replicaOrder {
	t.Helper()
	var got replicaOrder
	require.Eventually(t, func() bool {
		var ok bool
		got, ok = h.replica(t, id)
		return ok && got.Status == status && got.Version == version
	}, waitFor, tick, "replica of order %s %s at version %d", id, status, version)
	return got
}

// order announces a new order of u's at price, held for 15 minutes, and
// waits until the replica has it.
func (h *harness) order(t testing.TB, u user, price float64) string {
	t.Helper()
	id := oid()
	h.publish(t, createdEvent(id, u.id, price, h.clock.Now().Add(15*time.Minute)))
	h.waitReplica(t, id, events.OrderStatusCreated, 0)
	return id
}

func createdEvent(id, userID string, price float64, expiresAt time.Time) events.OrderCreated {
	return events.OrderCreated{
		ID: id, Version: 0, Status: events.OrderStatusCreated, UserID: userID, ExpiresAt: expiresAt,
		Ticket: events.OrderCreatedTicket{ID: oid(), Price: price},
	}
}

func cancelledEvent(id string, version int64) events.OrderCancelled {
	return events.OrderCancelled{ID: id, Version: version, Ticket: events.OrderCancelledTicket{ID: oid()}}
}

// cancel announces the order's cancellation (version 1) and waits until the
// app has handled it, refund included.
func (h *harness) cancel(t testing.TB, id string) {
	t.Helper()
	before := h.cancelsHandled(t, id)
	h.publish(t, cancelledEvent(id, 1))
	require.Eventually(t, func() bool { return h.cancelsHandled(t, id) > before }, waitFor, tick,
		"cancel of order %s handled", id)
}

// cancelsHandled counts the deliveries of order:cancelled for the order the
// app has finished with (acked).
func (h *harness) cancelsHandled(t testing.TB, id string) int {
	return h.logs.Count(t, "order cancel handled", map[string]any{"orderId": id})
}

// storedPayment is the raw payment record, outbox included.
type storedPayment struct {
	ID       primitive.ObjectID `bson:"_id"`
	OrderID  string             `bson:"orderId"`
	Version  int64              `bson:"version"`
	Status   string             `bson:"status"`
	Attempt  int64              `bson:"attempt"`
	Amount   int64              `bson:"amount"`
	Token    string             `bson:"token"`
	StripeID string             `bson:"stripeId"`
	Intent   bool               `bson:"intent"`
	Refund   *struct {
		ID string    `bson:"id"`
		At time.Time `bson:"at"`
	} `bson:"refund"`
	Lease  bson.M   `bson:"lease"`
	Outbox []bson.M `bson:"outbox"`
}

// payments returns every payment record of the order.
func (h *harness) payments(t testing.TB, orderID string) []storedPayment {
	t.Helper()
	cur, err := h.db.Collection("payments").Find(context.Background(), bson.M{"orderId": orderID})
	if !assert.NoError(t, err) {
		return nil
	}
	var docs []storedPayment
	assert.NoError(t, cur.All(context.Background(), &docs))
	return docs
}

// payment returns the order's one payment record.
func (h *harness) payment(t testing.TB, orderID string) storedPayment {
	t.Helper()
	docs := h.payments(t, orderID)
	require.Len(t, docs, 1, "one payment record for order %s", orderID)
	return docs[0]
}

// waitPublished waits until the payment's outbox is empty, that is,
// everything it stored has been published and acked by NATS.
func (h *harness) waitPublished(t testing.TB, orderID string) {
	t.Helper()
	require.Eventually(t, func() bool {
		p := h.payments(t, orderID)
		return len(p) == 1 && len(p[0].Outbox) == 0
	}, waitFor, tick,
		"outbox of the payment of order %s drained", orderID)
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

func mustOID(t testing.TB, id string) primitive.ObjectID {
	t.Helper()
	o, err := primitive.ObjectIDFromHex(id)
	require.NoError(t, err)
	return o
}
