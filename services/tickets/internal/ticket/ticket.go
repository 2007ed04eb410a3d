// Package ticket holds the tickets service's domain: what a ticket is, who
// may change it and when, the reservation rules the order events apply, and
// the checks on what callers send (CONTRACT.md §2 tickets, §3).
package ticket

import (
	"errors"
	"slices"

	"github.com/ticketing/common/errs"
)

// Ticket is a ticket for sale. Version counts its changes; every change
// raises it by one and is published, so replicas can apply changes in order.
type Ticket struct {
	ID      string
	Title   string
	Price   float64
	UserID  string
	Version int64
	// OrderID is the order holding the ticket; empty while it is for sale.
	OrderID string
	// ReleasedOrders remembers the latest orders whose cancellation this
	// ticket has seen. order:created and order:cancelled travel on different
	// channels, so a cancellation may arrive before (or a redelivered
	// creation after) the order it ends; without this memory such an order
	// would hold the ticket for good.
	ReleasedOrders []string
}

// MaxReleasedOrders bounds the memory of cancelled orders kept per ticket:
// far more than can be in flight for one ticket at once.
const MaxReleasedOrders = 50

// Errors the routes and listeners answer with.
var (
	ErrNotFound = errs.ErrNotFound
	ErrNotOwner = errs.ErrNotAuthorized
	ErrReserved = errs.BadRequest("Cannot edit a reserved ticket")
	// ErrHeldByAnotherOrder means an order asked for a ticket another order
	// holds. Orders' unique index allows one active order per ticket, so this
	// is the previous order's cancellation not having arrived yet.
	ErrHeldByAnotherOrder = errors.New("ticket is held by another order")
)

// Reserved reports whether an order holds the ticket.
func (t Ticket) Reserved() bool { return t.OrderID != "" }

// Edit returns the ticket after its owner userID changes it to d. The checks
// run in the contract's order: a reserved ticket is refused before the owner
// is asked about.
func (t Ticket) Edit(userID string, d Draft) (Ticket, error) {
	if t.Reserved() {
		return Ticket{}, ErrReserved
	}
	if t.UserID != userID {
		return Ticket{}, ErrNotOwner
	}
	next := t.clone()
	next.Title, next.Price = d.Title, d.Price
	next.Version++
	return next, nil
}

// Reserve returns the ticket held by orderID. changed is false when there is
// nothing to do: the order already holds it, or was cancelled already.
func (t Ticket) Reserve(orderID string) (next Ticket, changed bool, err error) {
	switch {
	case t.OrderID == orderID, slices.Contains(t.ReleasedOrders, orderID):
		return t, false, nil
	case t.Reserved():
		return t, false, ErrHeldByAnotherOrder
	}
	next = t.clone()
	next.OrderID = orderID
	next.Version++
	return next, true, nil
}

// Release returns the ticket after orderID was cancelled: free again if that
// order held it, untouched otherwise except that the order is remembered, so
// a late order:created for it reserves nothing. changed is false when the
// cancellation was seen before.
func (t Ticket) Release(orderID string) (next Ticket, changed bool) {
	if slices.Contains(t.ReleasedOrders, orderID) {
		return t, false
	}
	next = t.clone()
	if next.OrderID == orderID {
		next.OrderID = ""
	}
	next.ReleasedOrders = append(next.ReleasedOrders, orderID)
	if n := len(next.ReleasedOrders); n > MaxReleasedOrders {
		next.ReleasedOrders = next.ReleasedOrders[n-MaxReleasedOrders:]
	}
	next.Version++
	return next, true
}

// clone copies t so that changing the copy's slice never changes t's.
func (t Ticket) clone() Ticket {
	t.ReleasedOrders = slices.Clone(t.ReleasedOrders)
	return t
}
