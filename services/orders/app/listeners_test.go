package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/events"
)

// serial makes the app's listeners take one message at a time, in the order
// published, acking each before the next is sent: a probe published after
// some messages and seen applied proves those were handled and acked (a
// message left unacked would hold the probe back).
var serial = []events.ListenOption{events.WithWorkers(1), events.WithMaxInflight(1)}

func ticketV(id string, v int64) events.TicketUpdated {
	return events.TicketUpdated{ID: id, Version: v, Title: fmt.Sprintf("title v%d", v), Price: float64(10 + v), UserID: sellerID}
}

var sellerID = oid()

func TestReplicaCreatedAndUpdatedInOrder(t *testing.T) {
	h := newHarness(t)
	id := oid()
	h.publish(t, events.TicketCreated{ID: id, Version: 0, Title: "concert", Price: 20, UserID: sellerID})
	got := h.waitReplica(t, id, 0)
	assert.Equal(t, replicaTicket{ID: mustOID(t, id), Title: "concert", Price: 20, Version: 0}, got)

	for v := int64(1); v <= 3; v++ {
		h.publish(t, ticketV(id, v))
		got = h.waitReplica(t, id, v)
		assert.Equal(t, ticketV(id, v).Title, got.Title)
		assert.Equal(t, ticketV(id, v).Price, got.Price)
	}
	// The orders service makes its orders from the replica.
	o := h.reserve(t, newUser(t), id)
	assert.Equal(t, "title v3", o.Ticket.Title)
	assert.Equal(t, 13.0, o.Ticket.Price)
	assert.Equal(t, int64(3), o.Ticket.Version)
}

// v2 arrives before v1 and before the ticket's create, as it may on
// separate channels: the replica holds v2 at once, without a redelivery,
// and keeps it; v1 and the create, late, change nothing.
func TestReplicaAppliesNewestAtOnce(t *testing.T) {
	h := newHarness(t, serial...)
	id, probe := oid(), oid()
	start := time.Now()
	h.publish(t, ticketV(id, 2))
	got := h.waitReplica(t, id, 2)
	t.Logf("v2 applied %v after it was published (ack wait 1 s)", time.Since(start))
	assert.Equal(t, replicaTicket{ID: mustOID(t, id), Title: "title v2", Price: 12, Version: 2}, got)

	h.publish(t, ticketV(id, 1))
	h.publish(t, events.TicketCreated{ID: id, Version: 0, Title: "concert", Price: 20, UserID: sellerID})
	// Probes behind the late events on both channels: with one message in
	// flight per channel, they are applied only once those were acked.
	h.publish(t, events.TicketCreated{ID: probe, Version: 0, Title: "probe", Price: 1, UserID: sellerID})
	h.publish(t, ticketV(probe, 1))
	h.waitReplica(t, probe, 1)

	got, _ = h.replica(t, id)
	assert.Equal(t, replicaTicket{ID: mustOID(t, id), Title: "title v2", Price: 12, Version: 2}, got, "v2 is kept")
	for _, r := range h.logs.Records(t) {
		msg, _ := r["msg"].(string)
		assert.False(t, strings.HasPrefix(msg, "handler failed") || strings.HasPrefix(msg, "poison"),
			"nothing was left for redelivery or taken for poison: %v", r)
	}
	// The orders service makes its orders from the newest version.
	o := h.reserve(t, newUser(t), id)
	assert.Equal(t, "title v2", o.Ticket.Title)
	assert.Equal(t, int64(2), o.Ticket.Version)
}

// Duplicates (a repeated create, a repeated or old update) are acked and
// change nothing.
func TestReplicaIgnoresDuplicates(t *testing.T) {
	h := newHarness(t, serial...)
	id, probe := oid(), oid()
	// Each create is applied before its updates are sent: the subjects are
	// separate channels, and an update overtaking its create is what
	// TestReplicaAppliesNewestAtOnce is about, not this test.
	h.publish(t, events.TicketCreated{ID: id, Version: 0, Title: "concert", Price: 20, UserID: sellerID})
	h.publish(t, events.TicketCreated{ID: probe, Version: 0, Title: "probe", Price: 1, UserID: sellerID})
	h.waitReplica(t, id, 0)
	h.waitReplica(t, probe, 0)
	h.publish(t, ticketV(id, 1))
	h.publish(t, ticketV(id, 2))
	h.waitReplica(t, id, 2)

	h.publish(t, events.TicketCreated{ID: id, Version: 0, Title: "concert again", Price: 99, UserID: sellerID})
	h.publish(t, ticketV(id, 1))
	h.publish(t, ticketV(id, 2))
	// Probes behind the duplicates on both channels: they are applied only
	// once the duplicates before them have been acked.
	h.publish(t, events.TicketCreated{ID: oid(), Version: 0, Title: "probe 2", Price: 1, UserID: sellerID})
	h.publish(t, ticketV(probe, 1))
	h.waitReplica(t, probe, 1)
	require.Eventually(t, func() bool {
		n, err := h.db.Collection("tickets").CountDocuments(t.Context(), map[string]any{})
		return err == nil && n == 3
	}, waitFor, tick)

	got, _ := h.replica(t, id)
	assert.Equal(t, replicaTicket{ID: mustOID(t, id), Title: "title v2", Price: 12, Version: 2}, got)
	for _, r := range h.logs.Records(t) {
		msg, _ := r["msg"].(string)
		assert.False(t, strings.HasPrefix(msg, "handler failed") || strings.HasPrefix(msg, "poison"),
			"no duplicate was refused or taken for poison: %v", r)
	}
}

func TestExpirationComplete(t *testing.T) {
	h := newHarness(t, serial...)
	cancelled := observe[events.OrderCancelled](t, h)
	buyer := newUser(t)
	open := h.reserve(t, buyer, h.ticket(t, "open", 10))
	paid := h.reserve(t, buyer, h.ticket(t, "paid", 10))
	gone := h.reserve(t, buyer, h.ticket(t, "gone", 10))
	probe := h.reserve(t, buyer, h.ticket(t, "probe", 10))
	h.publish(t, events.PaymentCreated{ID: oid(), OrderID: paid.ID, StripeID: "ch_1"})
	h.waitStatus(t, paid.ID, "complete", 1)
	require.Equal(t, http.StatusNoContent, h.do(t, buyer, "DELETE", "/api/orders/"+gone.ID, "").status)
	h.waitPublished(t, gone.ID)

	h.publish(t, events.ExpirationComplete{OrderID: open.ID})
	h.publish(t, events.ExpirationComplete{OrderID: paid.ID})
	h.publish(t, events.ExpirationComplete{OrderID: gone.ID})
	h.publish(t, events.ExpirationComplete{OrderID: oid()})   // never existed: poison, acked
	h.publish(t, events.ExpirationComplete{OrderID: open.ID}) // repeated
	h.publish(t, events.ExpirationComplete{OrderID: probe.ID})
	h.waitStatus(t, probe.ID, "cancelled", 1)

	s := h.stored(t, open.ID)
	assert.Equal(t, "cancelled", s.Status, "a created order is cancelled")
	assert.Equal(t, int64(1), s.Version, "once, though expired twice")
	assert.Equal(t, "cancelled:"+open.ID, s.Reservation)
	s = h.stored(t, paid.ID)
	assert.Equal(t, "complete", s.Status, "a complete order is left alone")
	assert.Equal(t, int64(1), s.Version)
	assert.Equal(t, int64(1), h.stored(t, gone.ID).Version, "a cancelled order is left alone")

	h.waitPublished(t, open.ID)
	h.waitPublished(t, probe.ID)
	require.Eventually(t, func() bool { return len(cancelled.all()) == 3 }, waitFor, tick)
	assert.ElementsMatch(t, []events.OrderCancelled{
		{ID: gone.ID, Version: 1, Ticket: events.OrderCancelledTicket{ID: gone.Ticket.ID}},
		{ID: open.ID, Version: 1, Ticket: events.OrderCancelledTicket{ID: open.Ticket.ID}},
		{ID: probe.ID, Version: 1, Ticket: events.OrderCancelledTicket{ID: probe.Ticket.ID}},
	}, cancelled.all(), "order:cancelled for each order cancelled, none for the others")
	assert.Equal(t, 1, h.countLogs(t, "poison message"), "the unknown order was logged and acked")

	again := h.reserve(t, newUser(t), open.Ticket.ID)
	assert.Equal(t, "created", again.Status, "the expired order's ticket can be reserved again")
}

func TestPaymentCreated(t *testing.T) {
	h := newHarness(t, serial...)
	buyer := newUser(t)
	open := h.reserve(t, buyer, h.ticket(t, "open", 10))
	gone := h.reserve(t, buyer, h.ticket(t, "gone", 10))
	probe := h.reserve(t, buyer, h.ticket(t, "probe", 10))
	require.Equal(t, http.StatusNoContent, h.do(t, buyer, "DELETE", "/api/orders/"+gone.ID, "").status)

	h.publish(t, events.PaymentCreated{ID: oid(), OrderID: open.ID, StripeID: "ch_1"})
	h.publish(t, events.PaymentCreated{ID: oid(), OrderID: open.ID, StripeID: "ch_1"}) // repeated
	h.publish(t, events.PaymentCreated{ID: oid(), OrderID: gone.ID, StripeID: "ch_2"})
	h.publish(t, events.PaymentCreated{ID: oid(), OrderID: oid(), StripeID: "ch_3"}) // never existed
	h.publish(t, events.PaymentCreated{ID: oid(), OrderID: probe.ID, StripeID: "ch_4"})
	h.waitStatus(t, probe.ID, "complete", 1)

	s := h.stored(t, open.ID)
	assert.Equal(t, "complete", s.Status)
	assert.Equal(t, int64(1), s.Version, "completed once, though paid twice")
	assert.Equal(t, open.Ticket.ID, s.Reservation, "a complete order keeps its ticket")
	s = h.stored(t, gone.ID)
	assert.Equal(t, "cancelled", s.Status, "a payment leaves a cancelled order cancelled")
	assert.Equal(t, int64(1), s.Version)
	assert.Equal(t, 1, h.countLogs(t, "poison message"))

	got := decodeOrder(t, h.do(t, buyer, "GET", "/api/orders/"+open.ID, ""))
	assert.Equal(t, "complete", got.Status)
	assert.Equal(t, int64(1), got.Version)
	r := h.do(t, newUser(t), "POST", "/api/orders", `{"ticketId":"`+open.Ticket.ID+`"}`)
	assert.Equal(t, http.StatusBadRequest, r.status, "a sold ticket stays reserved")
}

// Undecodable messages are poison: logged, acked, and the queue moves on.
func TestMalformedEventsDoNotBlock(t *testing.T) {
	h := newHarness(t, serial...)
	ctx := t.Context()
	for _, subject := range []string{"ticket:created", "ticket:updated", "expiration:complete", "payment:created"} {
		require.NoError(t, h.pub.Publish(ctx, subject, []byte(`{"id":"nope"}`)))
	}
	id := h.ticket(t, "after", 5)
	h.publish(t, ticketV(id, 1))
	h.waitReplica(t, id, 1)
	o := h.reserve(t, newUser(t), id)
	h.publish(t, events.PaymentCreated{ID: oid(), OrderID: o.ID, StripeID: "ch_1"})
	h.waitStatus(t, o.ID, "complete", 1)
	assert.Equal(t, 4, h.countLogs(t, "poison message"))
}

func (h *harness) countLogs(t testing.TB, prefix string) int {
	n := 0
	for _, r := range h.logs.Records(t) {
		if msg, _ := r["msg"].(string); strings.HasPrefix(msg, prefix) {
			n++
		}
	}
	return n
}
