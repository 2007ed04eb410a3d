package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/ticketing/common/events"
	"github.com/ticketing/common/testkit"
)

const jwtKey = "tickets-run-test-key"

type server struct {
	url  string
	logs *testkit.LogBuffer
	stop func() // cancels run and checks it returned nil
}

// startTickets runs the real service (run, as main calls it) in-process.
func startTickets(t *testing.T, env map[string]string) *server {
	t.Helper()
	svc := testkit.RunService(t, "tickets", run, env)
	return &server{url: svc.URL, logs: svc.Logs, stop: svc.Stop}
}

func baseEnv(t *testing.T, bus *testkit.NATSServer) map[string]string {
	db := testkit.MongoDB(t)
	return map[string]string{
		"PORT": "0", "MONGO_URI": testkit.MongoURI(t, db.Name()), "JWT_KEY": jwtKey, "LOG_LEVEL": "debug",
		"NATS_URL": bus.URL(), "NATS_CLUSTER_ID": testkit.NATSClusterID, "NATS_CLIENT_ID": testkit.UniqueClientID(t),
	}
}

func (s *server) do(t *testing.T, method, path, body, cookie string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}

type ticketJSON struct {
	ID      string `json:"id"`
	Version int64  `json:"version"`
	OrderID string `json:"orderId"`
}

func (s *server) get(t require.TestingT, id string) ticketJSON {
	res, err := http.Get(s.url + "/api/tickets/" + id)
	require.NoError(t, err)
	defer res.Body.Close()
	var tk ticketJSON
	require.NoError(t, json.NewDecoder(res.Body).Decode(&tk))
	return tk
}

func orderCreated(ticketID string) events.OrderCreated {
	return events.OrderCreated{
		ID: primitive.NewObjectID().Hex(), Status: events.OrderStatusCreated, UserID: primitive.NewObjectID().Hex(),
		ExpiresAt: time.Now().Add(15 * time.Minute), Ticket: events.OrderCreatedTicket{ID: ticketID, Price: 20},
	}
}

// The real run: HTTP, readiness, the relay publishing ticket:created, the
// listeners reserving on order:created, and a clean stop.
func TestRunServesAndListens(t *testing.T) {
	bus := testkit.NATS(t)
	s := startTickets(t, baseEnv(t, bus))
	seller := primitive.NewObjectID().Hex()
	cookie := testkit.Cookie(t, jwtKey, seller, "seller@test.dev")

	seen := make(chan events.TicketCreated, 1)
	observer, err := events.Listen(bus.Connect(t), "observer", func(_ context.Context, m events.TicketCreated, _ events.Meta) error {
		seen <- m
		return nil
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = observer.Close() })

	status, body := s.do(t, "GET", "/readyz", "", "")
	assert.Equal(t, 200, status, body)

	status, body = s.do(t, "POST", "/api/tickets", `{"title":"concert","price":"20.00"}`, cookie)
	require.Equal(t, 201, status, body)
	var tk ticketJSON
	require.NoError(t, json.Unmarshal([]byte(body), &tk))
	select {
	case m := <-seen:
		assert.Equal(t, events.TicketCreated{ID: tk.ID, Version: 0, Title: "concert", Price: 20, UserID: seller}, m)
	case <-time.After(20 * time.Second):
		t.Fatal("ticket:created was not published")
	}

	ev := orderCreated(tk.ID)
	require.NoError(t, events.NewPublisher(bus.Connect(t)).PublishEvent(context.Background(), ev))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, ev.ID, s.get(c, tk.ID).OrderID)
	}, 20*time.Second, 20*time.Millisecond)

	s.stop()
	assert.Contains(t, s.logs.String(), `"msg":"shutting down http server"`)
}

// The durable queue group outlives the process: an event published while
// the service is down is handled once it is back.
func TestRestartKeepsTheDurablePosition(t *testing.T) {
	bus := testkit.NATS(t)
	env := baseEnv(t, bus)
	s := startTickets(t, env)
	status, body := s.do(t, "POST", "/api/tickets", `{"title":"concert","price":20}`,
		testkit.Cookie(t, jwtKey, primitive.NewObjectID().Hex(), "s@test.dev"))
	require.Equal(t, 201, status, body)
	var tk ticketJSON
	require.NoError(t, json.Unmarshal([]byte(body), &tk))
	s.stop()

	ev := orderCreated(tk.ID)
	require.NoError(t, events.NewPublisher(bus.Connect(t)).PublishEvent(context.Background(), ev))

	s = startTickets(t, env)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got := s.get(c, tk.ID)
		assert.Equal(c, ev.ID, got.OrderID)
		assert.Equal(c, int64(1), got.Version)
	}, 20*time.Second, 20*time.Millisecond)
}

func TestConfigNamesEveryMissingVariable(t *testing.T) {
	err := run(context.Background(), func(k string) string {
		switch k {
		case "SESSION_TTL":
			return "soon"
		case "COOKIE_SECURE":
			return "maybe"
		case "PORT":
			return "http"
		}
		return ""
	}, io.Discard)
	require.Error(t, err)
	for _, name := range []string{"MONGO_URI", "JWT_KEY", "NATS_URL", "NATS_CLUSTER_ID", "NATS_CLIENT_ID", "SESSION_TTL", "COOKIE_SECURE", "PORT"} {
		assert.Contains(t, err.Error(), name)
	}
}
