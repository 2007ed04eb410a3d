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

func TestCreateOrder(t *testing.T) {
	h := newHarness(t)
	created := observe[events.OrderCreated](t, h)
	buyer := newUser(t)
	ticketID := h.ticket(t, "concert", 20.5)

	r := h.do(t, buyer, "POST", "/api/orders", `{"ticketId":"`+ticketID+`"}`)
	require.Equal(t, http.StatusCreated, r.status, r.body)
	o := decodeOrder(t, r)
	assert.Regexp(t, `^[0-9a-f]{24}$`, o.ID)
	assert.JSONEq(t, fmt.Sprintf(`{"id":%q,"userId":%q,"status":"created","expiresAt":"2026-01-02T03:19:05.678Z",`+
		`"ticket":{"id":%q,"title":"concert","price":20.5,"version":0},"version":0}`, o.ID, buyer.id, ticketID), r.body,
		"expiresAt = now + 15 min, ISO-8601 UTC with milliseconds")

	stored := h.stored(t, o.ID)
	assert.Equal(t, ticketID, stored.Reservation, "the active order holds the ticket's reservation")
	h.waitPublished(t, o.ID)
	require.Eventually(t, func() bool { return len(created.all()) == 1 }, waitFor, tick)
	assert.Equal(t, events.OrderCreated{
		ID: o.ID, Version: 0, Status: "created", UserID: buyer.id,
		ExpiresAt: time.Date(2026, 1, 2, 3, 19, 5, 678_000_000, time.UTC),
		Ticket:    events.OrderCreatedTicket{ID: ticketID, Price: 20.5},
	}, created.all()[0])

	got := h.do(t, buyer, "GET", "/api/orders/"+o.ID, "")
	require.Equal(t, http.StatusOK, got.status)
	assert.JSONEq(t, r.body, got.body)
	upper := h.do(t, buyer, "GET", "/api/orders/"+strings.ToUpper(o.ID), "")
	assert.Equal(t, http.StatusOK, upper.status, "ids are hex in either case")
}

func TestListOrders(t *testing.T) {
	h := newHarness(t)
	buyer, other, nobody := newUser(t), newUser(t), newUser(t)
	t1, t2, t3, t4 := h.ticket(t, "one", 10), h.ticket(t, "two", 20), h.ticket(t, "three", 30), h.ticket(t, "four", 40)

	o1 := h.reserve(t, buyer, t1)
	h.clock.Advance(time.Second)
	o2 := h.reserve(t, buyer, t2)
	h.clock.Advance(time.Second)
	o3 := h.reserve(t, buyer, t3)
	h.reserve(t, other, t4)
	require.Equal(t, http.StatusNoContent, h.do(t, buyer, "DELETE", "/api/orders/"+o2.ID, "").status)
	h.publish(t, events.PaymentCreated{ID: oid(), OrderID: o3.ID, StripeID: "ch_1"})
	h.waitStatus(t, o3.ID, "complete", 1)
	// The released ticket changes; the cancelled order shows it as it is now.
	h.publish(t, events.TicketUpdated{ID: t2, Version: 1, Title: "two, later", Price: 25, UserID: oid()})
	h.waitReplica(t, t2, 1)

	r := h.do(t, buyer, "GET", "/api/orders", "")
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.JSONEq(t, fmt.Sprintf(`[
		{"id":%q,"userId":%q,"status":"created","expiresAt":"2026-01-02T03:19:05.678Z","ticket":{"id":%q,"title":"one","price":10,"version":0},"version":0},
		{"id":%q,"userId":%q,"status":"cancelled","expiresAt":"2026-01-02T03:19:06.678Z","ticket":{"id":%q,"title":"two, later","price":25,"version":1},"version":1},
		{"id":%q,"userId":%q,"status":"complete","expiresAt":"2026-01-02T03:19:07.678Z","ticket":{"id":%q,"title":"three","price":30,"version":0},"version":1}
	]`, o1.ID, buyer.id, t1, o2.ID, buyer.id, t2, o3.ID, buyer.id, t3), r.body,
		"only the caller's orders, every status, oldest first, ticket embedded")

	empty := h.do(t, nobody, "GET", "/api/orders", "")
	assert.Equal(t, http.StatusOK, empty.status)
	assert.Equal(t, `[]`, empty.body, "an empty list, not null")
}

func TestCancelOrder(t *testing.T) {
	h := newHarness(t)
	cancelled := observe[events.OrderCancelled](t, h)
	buyer := newUser(t)
	ticketID := h.ticket(t, "concert", 20)
	o := h.reserve(t, buyer, ticketID)

	r := h.do(t, buyer, "DELETE", "/api/orders/"+o.ID, "")
	assert.Equal(t, http.StatusNoContent, r.status, r.body)
	assert.Empty(t, r.body)
	stored := h.stored(t, o.ID)
	assert.Equal(t, "cancelled", stored.Status)
	assert.Equal(t, int64(1), stored.Version)
	assert.Equal(t, "cancelled:"+o.ID, stored.Reservation, "the ticket's reservation is released")
	h.waitPublished(t, o.ID)
	require.Eventually(t, func() bool { return len(cancelled.all()) == 1 }, waitFor, tick)
	assert.Equal(t, events.OrderCancelled{ID: o.ID, Version: 1, Ticket: events.OrderCancelledTicket{ID: ticketID}}, cancelled.all()[0])

	again := h.do(t, buyer, "DELETE", "/api/orders/"+o.ID, "")
	assert.Equal(t, http.StatusNoContent, again.status, again.body)
	stored = h.stored(t, o.ID)
	assert.Equal(t, int64(1), stored.Version, "cancelling twice changes nothing")
	assert.Empty(t, stored.Outbox, "and stores no second order:cancelled")

	got := decodeOrder(t, h.do(t, buyer, "GET", "/api/orders/"+o.ID, ""))
	assert.Equal(t, "cancelled", got.Status)
	assert.Equal(t, int64(1), got.Version)

	next := h.reserve(t, newUser(t), ticketID)
	assert.Equal(t, "created", next.Status, "the ticket can be reserved again")
	assert.Len(t, cancelled.all(), 1, "one order:cancelled in all")
}

// Every refusal of the contract's orders table, with its status and body.
func TestRefusals(t *testing.T) {
	h := newHarness(t)
	buyer, other := newUser(t), newUser(t)
	free := h.ticket(t, "free", 10)
	held := h.reserve(t, buyer, h.ticket(t, "held", 10))
	paid := h.reserve(t, buyer, h.ticket(t, "paid", 10))
	h.publish(t, events.PaymentCreated{ID: oid(), OrderID: paid.ID, StripeID: "ch_1"})
	h.waitStatus(t, paid.ID, "complete", 1)
	unknown := oid()

	const (
		notAuthorized = `{"errors":[{"message":"Not authorized"}]}`
		notFound      = `{"errors":[{"message":"Not Found"}]}`
		badTicketID   = `{"errors":[{"message":"TicketId must be provided","field":"ticketId"}]}`
		badPathID     = `{"errors":[{"message":"Id in the path must be 24 hex characters"}]}`
		reserved      = `{"errors":[{"message":"Ticket is already reserved"}]}`
	)
	tests := []struct {
		name   string
		who    user
		method string
		path   string
		body   string
		status int
		want   string
	}{
		{"create: anonymous", anonymous, "POST", "/api/orders", `{"ticketId":"` + free + `"}`, 401, notAuthorized},
		{"create: anonymous with a bad body is 401 first", anonymous, "POST", "/api/orders", `{"ticketId":`, 401, notAuthorized},
		{"create: bad cookie", user{cookie: "session=garbage"}, "POST", "/api/orders", `{"ticketId":"` + free + `"}`, 401, notAuthorized},
		{"create: no ticketId", buyer, "POST", "/api/orders", `{}`, 400, badTicketID},
		{"create: empty body", buyer, "POST", "/api/orders", ``, 400, badTicketID},
		{"create: empty ticketId", buyer, "POST", "/api/orders", `{"ticketId":""}`, 400, badTicketID},
		{"create: ticketId not hex", buyer, "POST", "/api/orders", `{"ticketId":"zzzzzzzzzzzzzzzzzzzzzzzz"}`, 400, badTicketID},
		{"create: ticketId too short", buyer, "POST", "/api/orders", `{"ticketId":"abc"}`, 400, badTicketID},
		{"create: ticketId a number", buyer, "POST", "/api/orders", `{"ticketId":123}`, 400, badTicketID},
		{"create: malformed JSON", buyer, "POST", "/api/orders", `{"ticketId":`, 400, `{"errors":[{"message":"Request body is not valid JSON"}]}`},
		{"create: JSON array", buyer, "POST", "/api/orders", `["x"]`, 400, `{"errors":[{"message":"Request body must be a JSON object"}]}`},
		{"create: unknown ticket", buyer, "POST", "/api/orders", `{"ticketId":"` + unknown + `"}`, 404, notFound},
		{"create: ticket held by a created order", other, "POST", "/api/orders", `{"ticketId":"` + held.Ticket.ID + `"}`, 400, reserved},
		{"create: ticket held by the caller already", buyer, "POST", "/api/orders", `{"ticketId":"` + held.Ticket.ID + `"}`, 400, reserved},
		{"create: ticket held by a complete order", other, "POST", "/api/orders", `{"ticketId":"` + paid.Ticket.ID + `"}`, 400, reserved},

		{"list: anonymous", anonymous, "GET", "/api/orders", "", 401, notAuthorized},

		{"get: anonymous", anonymous, "GET", "/api/orders/" + held.ID, "", 401, notAuthorized},
		{"get: anonymous with a malformed id is 401 first", anonymous, "GET", "/api/orders/nope", "", 401, notAuthorized},
		{"get: malformed id", buyer, "GET", "/api/orders/nope", "", 400, badPathID},
		{"get: unknown", buyer, "GET", "/api/orders/" + unknown, "", 404, notFound},
		{"get: someone else's", other, "GET", "/api/orders/" + held.ID, "", 401, notAuthorized},

		{"cancel: anonymous", anonymous, "DELETE", "/api/orders/" + held.ID, "", 401, notAuthorized},
		{"cancel: malformed id", buyer, "DELETE", "/api/orders/123", "", 400, badPathID},
		{"cancel: unknown", buyer, "DELETE", "/api/orders/" + unknown, "", 404, notFound},
		{"cancel: someone else's", other, "DELETE", "/api/orders/" + held.ID, "", 401, notAuthorized},
		{"cancel: someone else's complete order is 401 before 400", other, "DELETE", "/api/orders/" + paid.ID, "", 401, notAuthorized},
		{"cancel: complete", buyer, "DELETE", "/api/orders/" + paid.ID, "", 400, `{"errors":[{"message":"Cannot cancel a completed order"}]}`},

		{"unknown method", buyer, "PUT", "/api/orders/" + held.ID, "{}", 404, notFound},
		{"unknown route", buyer, "GET", "/api/orders/" + held.ID + "/x", "", 404, notFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(t, tt.who, tt.method, tt.path, tt.body)
			assert.Equal(t, tt.status, r.status, r.body)
			assert.JSONEq(t, tt.want, r.body)
		})
	}

	// None of the refusals changed anything.
	for _, id := range []string{held.ID, paid.ID} {
		before := map[string]string{held.ID: "created", paid.ID: "complete"}[id]
		assert.Equal(t, before, h.stored(t, id).Status)
	}
	list := h.do(t, other, "GET", "/api/orders", "")
	assert.Equal(t, `[]`, list.body, "no order was made for the refused buyer")
}

func TestHealthAndReadiness(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		assert.Equal(t, http.StatusOK, h.do(t, anonymous, "GET", path, "").status, path)
	}
}
