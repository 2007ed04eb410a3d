package ticket_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/services/tickets/internal/ticket"
)

const (
	owner  = "000000000000000000000001"
	other  = "000000000000000000000002"
	orderA = "0000000000000000000000a1"
	orderB = "0000000000000000000000b1"
)

func forSale() ticket.Ticket {
	return ticket.Ticket{ID: "0000000000000000000000f1", Title: "concert", Price: 20, UserID: owner, Version: 3}
}

func TestEdit(t *testing.T) {
	reserved := forSale()
	reserved.OrderID = orderA
	d := ticket.Draft{Title: "new", Price: 25}
	tests := []struct {
		name    string
		t       ticket.Ticket
		user    string
		wantErr error
	}{
		{"owner edits a ticket for sale", forSale(), owner, nil},
		{"someone else may not", forSale(), other, errs.ErrNotAuthorized},
		{"owner may not edit a reserved ticket", reserved, owner, ticket.ErrReserved},
		// The contract checks the reservation before the owner.
		{"reserved is said before not owner", reserved, other, ticket.ErrReserved},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next, err := tt.t.Edit(tt.user, d)
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			want := tt.t
			want.Title, want.Price, want.Version = "new", 25, tt.t.Version+1
			assert.Equal(t, want, next)
		})
	}
}

func TestReserveAndRelease(t *testing.T) {
	base := forSale()

	held, changed := base.Reserve(orderA)
	assert.True(t, changed)
	assert.Equal(t, orderA, held.OrderID)
	assert.Equal(t, base.Version+1, held.Version)
	assert.True(t, held.Reserved())
	assert.Empty(t, base.OrderID, "the original is not changed")

	again, changed := held.Reserve(orderA)
	assert.False(t, changed, "a repeated order:created changes nothing")
	assert.Equal(t, held, again)

	stray, changed := held.Release(orderB)
	assert.True(t, changed, "another order's cancellation is remembered")
	assert.Equal(t, orderA, stray.OrderID, "but leaves the reservation alone")
	assert.Equal(t, held.Version+1, stray.Version)
	_, changed = stray.Release(orderB)
	assert.False(t, changed, "a repeated cancellation changes nothing")

	free, changed := stray.Release(orderA)
	assert.True(t, changed)
	assert.Empty(t, free.OrderID)
	assert.False(t, free.Reserved())
	assert.Equal(t, stray.Version+1, free.Version)
	assert.Equal(t, []string{orderB, orderA}, free.ReleasedOrders)

	late, changed := free.Reserve(orderA)
	assert.False(t, changed, "a late or repeated order:created of a cancelled order reserves nothing")
	assert.Empty(t, late.OrderID)

	taken, changed := held.Reserve(orderB)
	assert.True(t, changed, "a new order takes a held ticket over at once")
	assert.Equal(t, orderB, taken.OrderID)
	assert.Equal(t, []string{orderA}, taken.StandbyOrders)
	assert.Empty(t, held.StandbyOrders, "the original is not changed")
}

// The orders service lets one order at a time be active for a ticket: each
// order below is created only after the one before it was cancelled (here
// A, then B, then C; C is active unless cancelled too). Whatever order the
// tickets service hears the events in, once it has heard them all the
// ticket is held by the active order, or free if there is none; and
// between events it never has more than one holder.
func TestReserveAndReleaseInAnyOrder(t *testing.T) {
	const orderC = "0000000000000000000000c1"
	created := func(id string) func(ticket.Ticket) (ticket.Ticket, bool) {
		return func(t ticket.Ticket) (ticket.Ticket, bool) { return t.Reserve(id) }
	}
	cancelled := func(id string) func(ticket.Ticket) (ticket.Ticket, bool) {
		return func(t ticket.Ticket) (ticket.Ticket, bool) { return t.Release(id) }
	}
	tests := []struct {
		name   string
		events []string // "+X" is X's order:created, "-X" its order:cancelled
		holder string
		writes int // events that changed the ticket
	}{
		{"in order", []string{"+A", "-A", "+B"}, orderB, 3},
		{"B before A's cancel: B takes over; A's cancel, late, leaves B holding", []string{"+A", "+B", "-A"}, orderB, 3},
		{"B, then A's stale create: A holds until its cancel hands the ticket back", []string{"+B", "+A", "-A"}, orderB, 3},
		{"a cancel before its create: the order never holds", []string{"-A", "+A"}, "", 1},
		{"a cancel before its create, then the next order", []string{"-A", "+B", "+A"}, orderB, 2},
		{"duplicates change nothing", []string{"+A", "+A", "+B", "+A", "+B", "-A", "-A", "+A"}, orderB, 3},
		{"three orders, creates reversed", []string{"+C", "+B", "+A", "-B", "-A"}, orderC, 5},
		{"three orders, cancels first", []string{"-A", "-B", "+C", "+B", "+A"}, orderC, 3},
		{"three orders, stale creates between cancels", []string{"+C", "+A", "-A", "+B", "-B"}, orderC, 5},
		{"all cancelled, any order", []string{"+B", "-C", "+A", "+C", "-A", "-B"}, "", 5},
	}
	ids := map[byte]string{'A': orderA, 'B': orderB, 'C': orderC}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk, writes := forSale(), 0
			for _, ev := range tt.events {
				step := created(ids[ev[1]])
				if ev[0] == '-' {
					step = cancelled(ids[ev[1]])
				}
				next, changed := step(tk)
				if changed {
					writes++
					assert.Equal(t, tk.Version+1, next.Version, "%s bumps the version", ev)
				} else {
					assert.Equal(t, tk, next, "%s changes nothing", ev)
				}
				assert.NotContains(t, next.StandbyOrders, next.OrderID, "after %s: the holder is not on standby", ev)
				if len(next.StandbyOrders) > 0 {
					assert.True(t, next.Reserved(), "after %s: orders on standby only behind a holder", ev)
				}
				tk = next
			}
			assert.Equal(t, tt.holder, tk.OrderID)
			assert.Empty(t, tk.StandbyOrders, "every order but the active one was cancelled")
			assert.Equal(t, tt.writes, writes)
		})
	}
}

func TestReleasedOrdersAreBounded(t *testing.T) {
	tk := forSale()
	for i := range ticket.MaxReleasedOrders + 10 {
		tk, _ = tk.Release(fmt.Sprintf("%024x", i))
	}
	require.Len(t, tk.ReleasedOrders, ticket.MaxReleasedOrders)
	assert.Equal(t, fmt.Sprintf("%024x", ticket.MaxReleasedOrders+9), tk.ReleasedOrders[ticket.MaxReleasedOrders-1], "the newest are kept")
	assert.Equal(t, fmt.Sprintf("%024x", 10), tk.ReleasedOrders[0])
}

// The status through the order and payment events, in the orders they can
// arrive in; each repeat changes nothing.
func TestStatusThroughTheEvents(t *testing.T) {
	at := time.Date(2026, 12, 4, 1, 0, 0, 0, time.UTC)
	type step struct {
		event       string // reserve, pay, release
		order       string
		wantChanged bool
		want        ticket.Status
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"held, paid, sold", []step{
			{"reserve", "o1", true, ticket.StatusReserved},
			{"pay", "o1", true, ticket.StatusSold},
			{"pay", "o1", false, ticket.StatusSold},
			{"reserve", "o1", false, ticket.StatusSold},
		}},
		{"a paid order cancelled puts it back on sale", []step{
			{"reserve", "o1", true, ticket.StatusReserved},
			{"pay", "o1", true, ticket.StatusSold},
			{"release", "o1", true, ticket.StatusAvailable},
			{"pay", "o1", false, ticket.StatusAvailable},
			{"reserve", "o1", false, ticket.StatusAvailable},
		}},
		{"the payment before its order:created", []step{
			{"pay", "o1", true, ticket.StatusAvailable},
			{"reserve", "o1", true, ticket.StatusSold},
		}},
		{"a paid order on standby takes over as sold", []step{
			{"reserve", "o1", true, ticket.StatusReserved},
			{"reserve", "o2", true, ticket.StatusReserved},
			{"pay", "o1", true, ticket.StatusReserved},
			{"release", "o2", true, ticket.StatusSold},
		}},
		{"a payment for a cancelled order sells nothing", []step{
			{"reserve", "o1", true, ticket.StatusReserved},
			{"release", "o1", true, ticket.StatusAvailable},
			{"pay", "o1", false, ticket.StatusAvailable},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := ticket.Ticket{ID: "t1", UserID: "u1"}
			for i, s := range tt.steps {
				var next ticket.Ticket
				var changed bool
				switch s.event {
				case "reserve":
					next, changed = tk.Reserve(s.order)
				case "pay":
					next, changed = tk.Pay(s.order, at)
				case "release":
					next, changed = tk.Release(s.order)
				}
				require.Equal(t, s.wantChanged, changed, "step %d (%s %s)", i, s.event, s.order)
				if changed {
					assert.Equal(t, tk.Version+1, next.Version, "step %d: every change is a version", i)
				} else {
					assert.Equal(t, tk, next, "step %d: nothing changes", i)
				}
				assert.Equal(t, s.want, next.Status(), "step %d (%s %s)", i, s.event, s.order)
				if s.want == ticket.StatusSold {
					assert.Equal(t, at, next.SoldAt())
				} else {
					assert.True(t, next.SoldAt().IsZero())
				}
				tk = next
			}
		})
	}
}

// Withdraw refuses in the contract's order: unknown, then sold or held, then
// not the owner; it takes an unheld ticket off sale as a new version.
func TestWithdraw(t *testing.T) {
	at := time.Date(2026, 12, 4, 1, 0, 0, 0, time.UTC)
	free := ticket.Ticket{ID: "t1", UserID: owner, Version: 3}
	held, _ := free.Reserve(orderA)
	sold, _ := held.Pay(orderA, at)
	gone := free
	gone.Withdrawn = true
	tests := []struct {
		name    string
		t       ticket.Ticket
		user    string
		wantErr error
	}{
		{"the owner's unheld ticket", free, owner, nil},
		{"someone else's", free, other, errs.ErrNotAuthorized},
		{"held, even by a stranger", held, other, ticket.ErrWithdrawReserved},
		{"sold", sold, owner, ticket.ErrWithdrawSold},
		{"withdrawn already", gone, owner, errs.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next, err := tt.t.Withdraw(tt.user)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.True(t, next.Withdrawn)
			assert.False(t, next.OnSale())
			assert.Equal(t, tt.t.Version+1, next.Version)
			_, err = next.Edit(owner, ticket.Draft{Title: "x", Price: 1})
			assert.ErrorIs(t, err, errs.ErrNotFound, "a withdrawn ticket cannot be edited")
		})
	}
}
