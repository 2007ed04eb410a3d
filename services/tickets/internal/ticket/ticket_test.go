package ticket_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
		{"someone else may not", forSale(), other, ticket.ErrNotOwner},
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

	held, changed, err := base.Reserve(orderA)
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Equal(t, orderA, held.OrderID)
	assert.Equal(t, base.Version+1, held.Version)
	assert.True(t, held.Reserved())
	assert.Empty(t, base.OrderID, "the original is not changed")

	again, changed, err := held.Reserve(orderA)
	require.NoError(t, err)
	assert.False(t, changed, "a repeated order:created changes nothing")
	assert.Equal(t, held, again)

	_, _, err = held.Reserve(orderB)
	assert.ErrorIs(t, err, ticket.ErrHeldByAnotherOrder)

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

	late, changed, err := free.Reserve(orderA)
	require.NoError(t, err)
	assert.False(t, changed, "a late or repeated order:created of a cancelled order reserves nothing")
	assert.Empty(t, late.OrderID)

	// Cancellation first, creation after: the order never holds the ticket.
	early, _ := base.Release(orderB)
	after, changed, err := early.Reserve(orderB)
	require.NoError(t, err)
	assert.False(t, changed)
	assert.Empty(t, after.OrderID)
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
