package app_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/events"
)

// A ticket:updated that says withdrawn is applied like any newer version,
// and the replica then refuses new orders for the ticket with 404.
func TestWithdrawnTicketRefusesOrders(t *testing.T) {
	h := newHarness(t)
	buyer := newUser(t)
	id := h.ticket(t, "concert", 20)
	h.publish(t, events.TicketUpdated{ID: id, Version: 1, Title: "concert", Price: 20, UserID: oid(), Withdrawn: true})
	h.waitReplica(t, id, 1)

	r := h.do(t, buyer, "POST", "/api/orders", `{"ticketId":"`+id+`"}`)
	require.Equal(t, 404, r.status, r.body)
	assert.JSONEq(t, `{"errors":[{"message":"Not Found"}]}`, r.body)

	other := h.ticket(t, "opera", 30)
	assert.Equal(t, 201, h.do(t, buyer, "POST", "/api/orders", `{"ticketId":"`+other+`"}`).status, "other tickets still sell")
}
