package listeners_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/ticketing/common/events"
	"github.com/ticketing/common/mongox"
	"github.com/ticketing/common/testkit"
	"github.com/ticketing/services/tickets/internal/listeners"
	"github.com/ticketing/services/tickets/internal/store"
	"github.com/ticketing/services/tickets/internal/ticket"
)

// waitFor is generous for -race on a shared 2-core machine; a pass takes
// milliseconds.
const (
	waitFor = 20 * time.Second
	tick    = 20 * time.Millisecond
	seller  = "000000000000000000000001"
	buyer   = "000000000000000000000002"
)

// harness is the tickets service's store, listeners and relay on a real
// NATS Streaming server, with an outside observer of ticket:updated.
type harness struct {
	store   *store.Tickets
	svc     *ticket.Service
	orders  *events.Publisher // publishes as the orders service would
	logs    *testkit.LogBuffer
	mu      sync.Mutex
	updates []events.TicketUpdated
}

func newHarness(t *testing.T, opts ...events.ListenOption) *harness {
	t.Helper()
	logger, logs := testkit.NewLogger()
	h := &harness{logs: logs}
	bus := testkit.NATS(t)

	h.store = store.NewTickets(testkit.MongoDB(t))
	conn := bus.Connect(t)
	relay := mongox.NewRelay(h.store.Collection(), events.NewPublisher(conn), logger, mongox.RelayOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = relay.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	h.svc = ticket.NewService(h.store, ticket.WithNotify(relay.Notify))
	opts = append([]events.ListenOption{events.WithLogger(logger), events.WithAckWait(time.Second)}, opts...)
	subs, err := listeners.Start(conn, h.svc, logger, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, events.CloseAll(subs)) })

	observer := bus.Connect(t)
	obs, err := events.Listen(observer, "observer", func(_ context.Context, m events.TicketUpdated, _ events.Meta) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.updates = append(h.updates, m)
		return nil
	})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, obs.Close()) })
	h.orders = events.NewPublisher(bus.Connect(t))
	return h
}

func (h *harness) newTicket(t *testing.T) ticket.Ticket {
	t.Helper()
	tk, err := h.svc.Create(context.Background(), seller, ticket.Draft{Title: "concert", Price: 20})
	require.NoError(t, err)
	return tk
}

func (h *harness) find(t require.TestingT, id string) ticket.Ticket {
	tk, err := h.store.Get(context.Background(), id)
	require.NoError(t, err)
	return tk
}

func (h *harness) updatesOf(id string) []events.TicketUpdated {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []events.TicketUpdated
	for _, u := range h.updates {
		if u.ID == id {
			out = append(out, u)
		}
	}
	return out
}

func (h *harness) created(t *testing.T, orderID string, tk ticket.Ticket) {
	t.Helper()
	require.NoError(t, h.orders.PublishEvent(context.Background(), events.OrderCreated{
		ID: orderID, Version: 0, Status: events.OrderStatusCreated, UserID: buyer,
		ExpiresAt: time.Now().Add(15 * time.Minute), Ticket: events.OrderCreatedTicket{ID: tk.ID, Price: tk.Price},
	}))
}

func (h *harness) cancelled(t *testing.T, orderID string, tk ticket.Ticket) {
	t.Helper()
	require.NoError(t, h.orders.PublishEvent(context.Background(), events.OrderCancelled{
		ID: orderID, Version: 1, Ticket: events.OrderCancelledTicket{ID: tk.ID},
	}))
}

func newID() string { return primitive.NewObjectID().Hex() }

func TestOrderCreatedReservesAndPublishes(t *testing.T) {
	h := newHarness(t)
	tk := h.newTicket(t)
	order := newID()
	h.created(t, order, tk)

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got := h.find(c, tk.ID)
		assert.Equal(c, order, got.OrderID)
		assert.Equal(c, int64(1), got.Version)
	}, waitFor, tick)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, []events.TicketUpdated{{ID: tk.ID, Version: 1, Title: "concert", Price: 20, UserID: seller, OrderID: order}},
			h.updatesOf(tk.ID))
	}, waitFor, tick)
}

// With one worker, messages are handled in the order they were published,
// so once a later message is handled the earlier ones are done too.
func TestDuplicateOrderCreatedChangesNothing(t *testing.T) {
	h := newHarness(t, events.WithWorkers(1))
	tk, sentinel := h.newTicket(t), h.newTicket(t)
	order := newID()
	h.created(t, order, tk)
	h.created(t, order, tk)
	h.created(t, order, tk)
	h.created(t, newID(), sentinel)

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.True(c, h.find(c, sentinel.ID).Reserved())
		assert.Len(c, h.updatesOf(sentinel.ID), 1)
	}, waitFor, tick)
	got := h.find(t, tk.ID)
	assert.Equal(t, order, got.OrderID)
	assert.Equal(t, int64(1), got.Version, "applied once")
	assert.Len(t, h.updatesOf(tk.ID), 1, "one ticket:updated for three deliveries")
}

func TestOrderCancelled(t *testing.T) {
	h := newHarness(t, events.WithWorkers(1))
	tk := h.newTicket(t)
	order, stranger := newID(), newID()
	h.created(t, order, tk)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, order, h.find(c, tk.ID).OrderID)
	}, waitFor, tick)

	// Another order's cancellation leaves the reservation alone.
	h.cancelled(t, stranger, tk)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got := h.find(c, tk.ID)
		assert.Contains(c, got.ReleasedOrders, stranger)
		assert.Equal(c, order, got.OrderID)
	}, waitFor, tick)
	list, err := h.svc.List(context.Background(), ticket.Page{Limit: 10})
	require.NoError(t, err)
	assert.Empty(t, list, "still reserved, so not for sale")

	// The holder's cancellation frees it; a repeat changes nothing.
	h.cancelled(t, order, tk)
	h.cancelled(t, order, tk)
	sentinel := h.newTicket(t)
	h.created(t, newID(), sentinel)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.True(c, h.find(c, sentinel.ID).Reserved())
	}, waitFor, tick)
	got := h.find(t, tk.ID)
	assert.Empty(t, got.OrderID)
	assert.Equal(t, int64(3), got.Version, "reserved, stranger remembered, released; the repeat wrote nothing")

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		ups := h.updatesOf(tk.ID)
		if assert.Len(c, ups, 3) {
			assert.Equal(c, events.TicketUpdated{ID: tk.ID, Version: 3, Title: "concert", Price: 20, UserID: seller}, ups[2],
				"released: ticket:updated without orderId")
		}
	}, waitFor, tick)
	list, err = h.svc.List(context.Background(), ticket.Page{Limit: 10})
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, tk.ID, list[0].ID, "back on the list")
}

// order:created and order:cancelled travel on different channels; when the
// cancellation comes first, the order must never hold the ticket.
func TestCancellationBeforeCreation(t *testing.T) {
	h := newHarness(t, events.WithWorkers(1))
	tk := h.newTicket(t)
	order := newID()
	h.cancelled(t, order, tk)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Contains(c, h.find(c, tk.ID).ReleasedOrders, order)
	}, waitFor, tick)

	h.created(t, order, tk)
	sentinel := h.newTicket(t)
	h.created(t, newID(), sentinel)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.True(c, h.find(c, sentinel.ID).Reserved())
	}, waitFor, tick)
	got := h.find(t, tk.ID)
	assert.False(t, got.Reserved(), "a cancelled order reserves nothing")
	assert.Equal(t, int64(1), got.Version)
}

// A new order for a ticket whose previous order's cancellation has not
// arrived yet takes it over at once, without a redelivery; the previous
// order's cancellation, and repeats of either order:created, then change
// who holds it no more.
func TestNewOrderTakesOverWithoutRedelivery(t *testing.T) {
	h := newHarness(t, events.WithWorkers(1))
	tk := h.newTicket(t)
	first, second := newID(), newID()
	h.created(t, first, tk)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, first, h.find(c, tk.ID).OrderID)
	}, waitFor, tick)

	start := time.Now()
	h.created(t, second, tk)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got := h.find(c, tk.ID)
		assert.Equal(c, second, got.OrderID)
		assert.Equal(c, []string{first}, got.StandbyOrders)
		assert.Equal(c, int64(2), got.Version)
	}, waitFor, tick)
	t.Logf("taken over %v after order:created was published (ack wait 1 s)", time.Since(start))

	h.cancelled(t, first, tk)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got := h.find(c, tk.ID)
		assert.Contains(c, got.ReleasedOrders, first)
		assert.Empty(c, got.StandbyOrders)
	}, waitFor, tick)

	// Stale and repeated order:created of both orders, then a sentinel
	// behind them on the same channel.
	h.created(t, first, tk)
	h.created(t, second, tk)
	sentinel := h.newTicket(t)
	h.created(t, newID(), sentinel)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.True(c, h.find(c, sentinel.ID).Reserved())
	}, waitFor, tick)
	got := h.find(t, tk.ID)
	assert.Equal(t, second, got.OrderID, "the late cancel and the repeats leave the new order holding")
	assert.Equal(t, int64(3), got.Version, "reserved, taken over, first's cancel recorded; the repeats wrote nothing")

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var holders []string
		for _, u := range h.updatesOf(tk.ID) {
			holders = append(holders, u.OrderID)
		}
		assert.Equal(c, []string{first, second, second}, holders, "ticket:updated v1..v3 name the holder of their version")
	}, waitFor, tick)
	assert.NotContains(t, h.logs.String(), "handler failed", "nothing was left for redelivery")
}

// An order:created that comes after a newer order's (the older order was
// cancelled, but neither its creation nor its cancellation had arrived)
// takes the ticket only until its own cancellation arrives, which hands the
// ticket back to the newer order.
func TestLateCreateOfAnOlderOrder(t *testing.T) {
	h := newHarness(t, events.WithWorkers(1))
	tk := h.newTicket(t)
	older, newer := newID(), newID()
	h.created(t, newer, tk)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, newer, h.find(c, tk.ID).OrderID)
	}, waitFor, tick)
	h.created(t, older, tk)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, []string{newer}, h.find(c, tk.ID).StandbyOrders)
	}, waitFor, tick)

	h.cancelled(t, older, tk)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got := h.find(c, tk.ID)
		assert.Equal(c, newer, got.OrderID, "handed back")
		assert.Empty(c, got.StandbyOrders)
		assert.Equal(c, int64(3), got.Version)
	}, waitFor, tick)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		ups := h.updatesOf(tk.ID)
		if assert.Len(c, ups, 3) {
			assert.Equal(c, newer, ups[2].OrderID)
		}
	}, waitFor, tick)
	assert.NotContains(t, h.logs.String(), "handler failed", "nothing was left for redelivery")
}

func TestUnknownTicketIsPoison(t *testing.T) {
	h := newHarness(t, events.WithWorkers(1))
	ghost := ticket.Ticket{ID: newID(), Price: 5}
	h.created(t, newID(), ghost)
	h.cancelled(t, newID(), ghost)
	require.Eventually(t, func() bool {
		return bytes.Count([]byte(h.logs.String()), []byte("names unknown ticket")) >= 2
	}, waitFor, tick)

	// Acked, not redelivered: a later message is still handled, and the
	// poison ones do not come back.
	tk := h.newTicket(t)
	h.created(t, newID(), tk)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.True(c, h.find(c, tk.ID).Reserved())
	}, waitFor, tick)
	require.Never(t, func() bool {
		return bytes.Count([]byte(h.logs.String()), []byte("names unknown ticket")) > 2
	}, 1500*time.Millisecond, 50*time.Millisecond, "longer than the ack wait, so a redelivery would show")
}
