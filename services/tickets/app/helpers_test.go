package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/ticketing/common/events"
	"github.com/ticketing/common/session"
	"github.com/ticketing/common/testkit"
	"github.com/ticketing/services/tickets/app"
)

const (
	jwtKey  = "tickets-test-key"
	waitFor = 20 * time.Second
	tick    = 20 * time.Millisecond
)

// service is the tickets service running in-process on a real NATS
// Streaming server and a fresh FerretDB database, with an observer that
// records every ticket event, as the orders service would receive them.
type service struct {
	url    string
	orders *events.Publisher // publishes as the orders service would

	mu      sync.Mutex
	created []events.TicketCreated
	updated []events.TicketUpdated
}

func startService(t *testing.T) *service {
	t.Helper()
	bus := testkit.NATS(t)
	sessions, err := session.NewManager(session.Config{Key: []byte(jwtKey)})
	require.NoError(t, err)
	ctx := context.Background()
	a, err := app.New(ctx, app.Deps{DB: testkit.MongoDB(t), Events: bus.Connect(t), Sessions: sessions})
	require.NoError(t, err)
	require.NoError(t, a.Start(ctx))
	t.Cleanup(func() { assert.NoError(t, a.Close()) })
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)

	s := &service{url: srv.URL, orders: events.NewPublisher(bus.Connect(t))}
	observer := bus.Connect(t)
	lc, err := events.Listen(observer, "observer", func(_ context.Context, m events.TicketCreated, _ events.Meta) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.created = append(s.created, m)
		return nil
	})
	require.NoError(t, err)
	// One worker keeps the order of arrival, which is the order published.
	lu, err := events.Listen(observer, "observer", func(_ context.Context, m events.TicketUpdated, _ events.Meta) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.updated = append(s.updated, m)
		return nil
	}, events.WithWorkers(1))
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, lc.Close())
		assert.NoError(t, lu.Close())
	})
	return s
}

func (s *service) createdOf(id string) []events.TicketCreated {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []events.TicketCreated
	for _, m := range s.created {
		if m.ID == id {
			out = append(out, m)
		}
	}
	return out
}

func (s *service) updatedOf(id string) []events.TicketUpdated {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []events.TicketUpdated
	for _, m := range s.updated {
		if m.ID == id {
			out = append(out, m)
		}
	}
	return out
}

// user is a signed-in caller; the zero user is anonymous.
type user struct{ id, cookie string }

func newUser(t testing.TB) user {
	id := primitive.NewObjectID().Hex()
	return user{id: id, cookie: testkit.Cookie(t, jwtKey, id, id+"@test.dev")}
}

type response struct {
	status int
	body   string
}

// try sends body as it is. It is safe from many goroutines: it reports
// transport errors instead of failing the test from a goroutine.
func (s *service) try(u user, method, path, body string) (response, error) {
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if u.cookie != "" {
		req.Header.Set("Cookie", u.cookie)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return response{status: res.StatusCode, body: string(b)}, err
}

func (s *service) do(t *testing.T, u user, method, path, body string) response {
	t.Helper()
	r, err := s.try(u, method, path, body)
	require.NoError(t, err)
	return r
}

// ticketJSON decodes the contract's Ticket; OrderID is a pointer so that a
// missing orderId can be told from an empty one.
type ticketJSON struct {
	ID      string  `json:"id"`
	Title   string  `json:"title"`
	Price   float64 `json:"price"`
	UserID  string  `json:"userId"`
	Version int64   `json:"version"`
	OrderID *string `json:"orderId"`
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal([]byte(r.body), &v), r.body)
	return v
}

func (s *service) create(t *testing.T, u user, title string, price float64) ticketJSON {
	t.Helper()
	b, err := json.Marshal(map[string]any{"title": title, "price": price})
	require.NoError(t, err)
	r := s.do(t, u, "POST", "/api/tickets", string(b))
	require.Equal(t, http.StatusCreated, r.status, r.body)
	return decode[ticketJSON](t, r)
}

// reserve publishes order:created for tk, as the orders service does, and
// waits until the ticket shows the order.
func (s *service) reserve(t *testing.T, tk ticketJSON) string {
	t.Helper()
	order := primitive.NewObjectID().Hex()
	require.NoError(t, s.orders.PublishEvent(context.Background(), events.OrderCreated{
		ID: order, Status: events.OrderStatusCreated, UserID: primitive.NewObjectID().Hex(),
		ExpiresAt: time.Now().Add(15 * time.Minute), Ticket: events.OrderCreatedTicket{ID: tk.ID, Price: tk.Price},
	}))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		r, err := s.try(user{}, "GET", "/api/tickets/"+tk.ID, "")
		require.NoError(c, err)
		got := ticketJSON{}
		require.NoError(c, json.Unmarshal([]byte(r.body), &got))
		require.NotNil(c, got.OrderID)
		assert.Equal(c, order, *got.OrderID)
	}, waitFor, tick)
	return order
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
