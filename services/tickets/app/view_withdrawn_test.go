package app_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/events"
)

// A withdrawal heard from the bus (made by another copy of the service)
// takes the ticket off this copy's list: the view keeps the withdrawn state
// the event carries, not just its version.
func TestWithdrawalHeardFromAnotherCopyLeavesTheList(t *testing.T) {
	s := startService(t)
	seller := newUser(t)
	tk := s.create(t, seller, "concert", 20)
	require.Contains(t, s.do(t, user{}, "GET", "/api/tickets", "").body, tk.ID)

	require.NoError(t, s.orders.PublishEvent(context.Background(), events.TicketUpdated{
		ID: tk.ID, Version: tk.Version + 1, Title: tk.Title, Price: tk.Price, UserID: seller.id, Withdrawn: true,
	}))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.NotContains(c, s.do(t, user{}, "GET", "/api/tickets", "").body, tk.ID)
	}, waitFor, tick, "the list drops a withdrawn ticket")
}
