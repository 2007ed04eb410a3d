package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/common/events"
	"github.com/ticketing/common/testkit"
	"github.com/ticketing/services/orders/internal/order"
	"github.com/ticketing/services/orders/internal/store"
)

const (
	jwtKey  = "orders-run-test-key"
	waitFor = 20 * time.Second
	tick    = 20 * time.Millisecond
)

type ordersServer struct {
	url  string
	logs *testkit.LogBuffer
	stop func() // stops run and checks it returned nil
}

// env is what infra/local hands the service, pointed at this test's servers.
func env(t *testing.T, db *mongo.Database, nats *testkit.NATSServer, extra map[string]string) map[string]string {
	e := map[string]string{
		"PORT":            "0",
		"MONGO_URI":       testkit.MongoURI(t, db.Name()),
		"JWT_KEY":         jwtKey,
		"NATS_URL":        nats.URL(),
		"NATS_CLUSTER_ID": testkit.NATSClusterID,
		"NATS_CLIENT_ID":  testkit.UniqueClientID(t),
		"LOG_LEVEL":       "debug",
	}
	for k, v := range extra {
		e[k] = v
	}
	return e
}

// startOrders runs the real service (run, as main calls it) until stop or
// the end of the test.
func startOrders(t *testing.T, env map[string]string) *ordersServer {
	t.Helper()
	svc := testkit.RunService(t, "orders", run, env)
	return &ordersServer{url: svc.URL, logs: svc.Logs, stop: svc.Stop}
}

func (s *ordersServer) do(t *testing.T, method, path, body, cookie string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// collect records every message of T's subject through a group of its own.
func collect[T events.Payload](t *testing.T, conn *events.Conn) func() []T {
	var mu sync.Mutex
	var got []T
	l, err := events.Listen(conn, "run-test", func(_ context.Context, m T, _ events.Meta) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, m)
		return nil
	})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, l.Close()) })
	return func() []T {
		mu.Lock()
		defer mu.Unlock()
		return append([]T(nil), got...)
	}
}

func TestRunServesOrdersOverNATS(t *testing.T) {
	db := testkit.MongoDB(t)
	nats := testkit.NATS(t)
	conn := nats.Connect(t)
	pub := events.NewPublisher(conn)
	created := collect[events.OrderCreated](t, conn)
	cancelled := collect[events.OrderCancelled](t, conn)
	e := env(t, db, nats, map[string]string{"EXPIRATION_WINDOW_SECONDS": "60"})
	s := startOrders(t, e)

	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		status, body := s.do(t, "GET", path, "", "")
		assert.Equal(t, http.StatusOK, status, "%s: %s", path, body)
	}

	ticketID := primitive.NewObjectID().Hex()
	require.NoError(t, pub.PublishEvent(t.Context(), events.TicketCreated{
		ID: ticketID, Version: 0, Title: "concert", Price: 20, UserID: primitive.NewObjectID().Hex(),
	}))
	buyer := primitive.NewObjectID().Hex()
	cookie := testkit.Cookie(t, jwtKey, buyer, "buyer@test.dev")
	var status int
	var body string
	var before time.Time
	require.Eventually(t, func() bool {
		before = time.Now()
		status, body = s.do(t, "POST", "/api/orders", `{"ticketId":"`+ticketID+`"}`, cookie)
		return status != http.StatusNotFound // until the replica has the ticket
	}, waitFor, tick)
	after := time.Now()
	require.Equal(t, http.StatusCreated, status, body)
	var o struct {
		ID        string `json:"id"`
		ExpiresAt string `json:"expiresAt"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &o))
	expires, err := time.Parse("2006-01-02T15:04:05.000Z", o.ExpiresAt)
	require.NoError(t, err, "ISO-8601 UTC with milliseconds: %s", o.ExpiresAt)
	assert.False(t, expires.Before(before.Add(60*time.Second).Truncate(time.Millisecond)), "EXPIRATION_WINDOW_SECONDS=60")
	assert.False(t, expires.After(after.Add(60*time.Second)), "EXPIRATION_WINDOW_SECONDS=60")

	require.Eventually(t, func() bool { return len(created()) == 1 }, waitFor, tick, "order:created published")
	assert.Equal(t, o.ID, created()[0].ID)
	status, body = s.do(t, "DELETE", "/api/orders/"+o.ID, "", cookie)
	require.Equal(t, http.StatusNoContent, status, body)
	require.Eventually(t, func() bool { return len(cancelled()) == 1 }, waitFor, tick, "order:cancelled published")
	assert.Equal(t, events.OrderCancelled{ID: o.ID, Version: 1, Ticket: events.OrderCancelledTicket{ID: ticketID}}, cancelled()[0])

	// Stopped, the service closes its durable subscriptions without deleting
	// them: an update published meanwhile is delivered after the restart.
	s.stop()
	assert.Contains(t, s.logs.String(), "shutting down http server")
	require.NoError(t, pub.PublishEvent(t.Context(), events.TicketUpdated{
		ID: ticketID, Version: 1, Title: "concert, moved", Price: 25, UserID: primitive.NewObjectID().Hex(),
	}))
	s = startOrders(t, e)
	require.Eventually(t, func() bool {
		status, body = s.do(t, "GET", "/api/orders/"+o.ID, "", cookie)
		return status == http.StatusOK && strings.Contains(body, `"title":"concert, moved"`)
	}, waitFor, tick, "the replica caught up after the restart: %d %s", status, body)
}

// The service stopped between storing an order and publishing its event:
// the relay's start-up sweep sends it when the service comes back.
func TestRunPublishesWhatACrashLeftBehind(t *testing.T) {
	db := testkit.MongoDB(t)
	nats := testkit.NATS(t)
	conn := nats.Connect(t)
	created := collect[events.OrderCreated](t, conn)

	// Exactly the write a crashed process made: the order with its event
	// in its outbox, never published.
	o := order.New(primitive.NewObjectID().Hex(), primitive.NewObjectID().Hex(),
		order.Ticket{ID: primitive.NewObjectID().Hex(), Title: "t", Price: 7}, time.Now(), time.Minute)
	require.NoError(t, store.NewOrders(db, nil).Insert(t.Context(), o, o.CreatedEvent()))

	startOrders(t, env(t, db, nats, nil))
	require.Eventually(t, func() bool { return len(created()) == 1 }, waitFor, tick)
	assert.Equal(t, o.CreatedEvent(), created()[0])
}

func TestLoadSettings(t *testing.T) {
	full := map[string]string{
		"MONGO_URI": "mongodb://127.0.0.1:1/orders", "JWT_KEY": "k",
		"NATS_URL": "nats://127.0.0.1:4222", "NATS_CLUSTER_ID": "ticketing", "NATS_CLIENT_ID": "orders-1",
	}
	with := func(changes map[string]string) func(string) string {
		return func(k string) string {
			if v, ok := changes[k]; ok {
				return v
			}
			return full[k]
		}
	}

	s, err := loadSettings(with(nil))
	require.NoError(t, err)
	assert.Equal(t, 3000, s.Port)
	assert.Equal(t, 900*time.Second, s.expirationWindow, "EXPIRATION_WINDOW_SECONDS defaults to 900")
	assert.Equal(t, "orders-1", s.NATS.ClientID)

	s, err = loadSettings(with(map[string]string{"EXPIRATION_WINDOW_SECONDS": "30", "TRUSTED_PROXIES": "10.0.0.0/8,127.0.0.1"}))
	require.NoError(t, err)
	assert.Equal(t, 30*time.Second, s.expirationWindow)
	assert.Equal(t, []string{"10.0.0.0/8", "127.0.0.1"}, s.TrustedProxies)

	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"nothing set", map[string]string{"MONGO_URI": "", "JWT_KEY": "", "NATS_URL": "", "NATS_CLUSTER_ID": "", "NATS_CLIENT_ID": ""},
			[]string{"MONGO_URI", "JWT_KEY", "NATS_URL", "NATS_CLUSTER_ID", "NATS_CLIENT_ID"}},
		{"bad window", map[string]string{"EXPIRATION_WINDOW_SECONDS": "0"}, []string{"EXPIRATION_WINDOW_SECONDS"}},
		{"window not a number", map[string]string{"EXPIRATION_WINDOW_SECONDS": "15m"}, []string{"EXPIRATION_WINDOW_SECONDS"}},
		{"bad port and ttl", map[string]string{"PORT": "70000", "SESSION_TTL": "-1h", "COOKIE_SECURE": "maybe"},
			[]string{"PORT", "SESSION_TTL", "COOKIE_SECURE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadSettings(with(tt.env))
			require.Error(t, err)
			for _, name := range tt.want {
				assert.Contains(t, err.Error(), name)
			}
		})
	}
}

// run itself refuses to start, naming every missing variable, before it
// connects to anything.
func TestRunFailsOnMissingConfig(t *testing.T) {
	err := run(t.Context(), func(string) string { return "" }, io.Discard)
	require.Error(t, err)
	for _, name := range []string{"MONGO_URI", "JWT_KEY", "NATS_URL", "NATS_CLUSTER_ID", "NATS_CLIENT_ID"} {
		assert.Contains(t, err.Error(), name)
	}
}
