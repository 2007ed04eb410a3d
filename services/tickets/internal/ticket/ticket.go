// Package ticket holds the tickets service's domain: what a ticket is, who
// may change it and when, the reservation rules the order events apply, and
// the checks on what callers send (CONTRACT.md §2 tickets, §3).
package ticket

import (
	"slices"
	"time"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/events"
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
	// StandbyOrders are the orders whose order:created this ticket has seen
	// but that do not hold it now, and whose cancellation has not been seen
	// yet, oldest first. See Reserve.
	StandbyOrders []string
	// Paid remembers the latest orders whose payment:created this ticket
	// has seen. The ticket is sold while one of them holds it; a paid
	// order can still be cancelled (its payment lost to the hold's end and
	// is refunded), and then the ticket is for sale again.
	Paid []Payment
	// Withdrawn: its seller took it off sale. It is kept (orders may still
	// name it) but answered as unknown.
	Withdrawn bool
}

// Payment is an order's payment as the ticket heard of it.
type Payment struct {
	OrderID string
	At      time.Time // when the tickets service heard of it
}

// Status is what a buyer can do with a ticket (CONTRACT.md §1.3).
type Status string

// The statuses of a ticket.
const (
	StatusAvailable Status = "available"
	StatusReserved  Status = "reserved" // a hold is running
	StatusSold      Status = "sold"     // its order was paid
)

// Status says whether the ticket is for sale, held, or sold.
func (t Ticket) Status() Status {
	switch {
	case !t.Reserved():
		return StatusAvailable
	case t.payment(t.OrderID) != nil:
		return StatusSold
	}
	return StatusReserved
}

// SoldAt is when the holding order's payment was heard of; zero unless the
// ticket is sold.
func (t Ticket) SoldAt() time.Time {
	if p := t.payment(t.OrderID); p != nil && t.Reserved() {
		return p.At
	}
	return time.Time{}
}

func (t Ticket) payment(orderID string) *Payment {
	for i := range t.Paid {
		if t.Paid[i].OrderID == orderID {
			return &t.Paid[i]
		}
	}
	return nil
}

// MaxReleasedOrders bounds the memory of cancelled orders kept per ticket,
// and of orders on standby: far more than can be in flight for one ticket
// at once.
const MaxReleasedOrders = 50

// Errors the routes and listeners answer with.
var (
	ErrReserved         = errs.BadRequest("Cannot edit a reserved ticket")
	ErrWithdrawReserved = errs.BadRequest("Cannot withdraw a reserved ticket")
	ErrWithdrawSold     = errs.BadRequest("Cannot withdraw a sold ticket")
)

// CreatedEvent announces a new ticket (ticket:created).
func (t Ticket) CreatedEvent() events.TicketCreated {
	return events.TicketCreated{ID: t.ID, Version: t.Version, Title: t.Title, Price: t.Price, UserID: t.UserID}
}

// UpdatedEvent announces the ticket's new state (ticket:updated): the whole
// ticket, so a replica applies the newest version it hears (CONTRACT.md §3).
func (t Ticket) UpdatedEvent() events.TicketUpdated {
	return events.TicketUpdated{
		ID: t.ID, Version: t.Version, Title: t.Title, Price: t.Price, UserID: t.UserID, OrderID: t.OrderID,
		Withdrawn: t.Withdrawn,
	}
}

// Reserved reports whether an order holds the ticket.
func (t Ticket) Reserved() bool { return t.OrderID != "" }

// Edit returns the ticket after its owner userID changes it to d. The checks
// run in the contract's order: a reserved ticket is refused before the owner
// is asked about.
func (t Ticket) Edit(userID string, d Draft) (Ticket, error) {
	if t.Withdrawn {
		return Ticket{}, errs.ErrNotFound
	}
	if t.Reserved() {
		return Ticket{}, ErrReserved
	}
	if t.UserID != userID {
		return Ticket{}, errs.ErrNotAuthorized
	}
	next := t.clone()
	next.Title, next.Price = d.Title, d.Price
	next.Version++
	return next, nil
}

// Withdraw returns the ticket after its owner userID took it off sale. The
// checks run in the order of an edit's: held or sold is refused before the
// owner is asked about.
func (t Ticket) Withdraw(userID string) (Ticket, error) {
	switch {
	case t.Withdrawn:
		return Ticket{}, errs.ErrNotFound
	case t.Status() == StatusSold:
		return Ticket{}, ErrWithdrawSold
	case t.Reserved():
		return Ticket{}, ErrWithdrawReserved
	case t.UserID != userID:
		return Ticket{}, errs.ErrNotAuthorized
	}
	next := t.clone()
	next.Withdrawn = true
	next.Version++
	return next, nil
}

// Reserve returns the ticket after orderID's order:created. changed is
// false when there is nothing to do: the order was seen before (it holds
// the ticket, waits on standby, or was cancelled already).
//
// A ticket another order holds is taken over at once, and the holder goes
// on standby. The orders service lets one order at a time be active for a
// ticket (its unique reservation index), so of the orders seen and not yet
// cancelled, all but one have been cancelled and their order:cancelled is
// on its way. The one heard last is the likeliest to be the active one; if
// it is not (an old order:created that came late), its own cancellation
// comes too, and Release hands the ticket back to the standby. Once every
// cancellation has arrived, the holder is the active order, whatever order
// the events came in, and nothing waits for a redelivery.
func (t Ticket) Reserve(orderID string) (next Ticket, changed bool) {
	if t.OrderID == orderID || slices.Contains(t.ReleasedOrders, orderID) || slices.Contains(t.StandbyOrders, orderID) {
		return t, false
	}
	next = t.clone()
	if next.Reserved() {
		next.StandbyOrders = bounded(append(next.StandbyOrders, next.OrderID))
	}
	next.OrderID = orderID
	next.Version++
	return next, true
}

// Release returns the ticket after orderID was cancelled. If that order held
// it, the order that last went on standby takes it over, or else it is free
// again; an order on standby just leaves. Either way the order is
// remembered, so a late order:created for it reserves nothing. changed is
// false when the cancellation was seen before.
func (t Ticket) Release(orderID string) (next Ticket, changed bool) {
	if slices.Contains(t.ReleasedOrders, orderID) {
		return t, false
	}
	next = t.clone()
	switch {
	case next.OrderID == orderID && len(next.StandbyOrders) > 0:
		last := len(next.StandbyOrders) - 1
		next.OrderID = next.StandbyOrders[last]
		next.StandbyOrders = next.StandbyOrders[:last]
	case next.OrderID == orderID:
		next.OrderID = ""
	default:
		next.StandbyOrders = slices.DeleteFunc(next.StandbyOrders, func(id string) bool { return id == orderID })
	}
	if len(next.StandbyOrders) == 0 {
		next.StandbyOrders = nil // as the store reads back a list it has removed
	}
	next.ReleasedOrders = bounded(append(next.ReleasedOrders, orderID))
	next.Version++
	return next, true
}

// Pay returns the ticket after orderID's payment:created, heard at at. The
// payment is remembered whether or not the order holds the ticket now: an
// order on standby may take it over once the holder's cancellation comes.
// A payment heard before, or for an order already cancelled (its charge is
// refunded), changes nothing.
func (t Ticket) Pay(orderID string, at time.Time) (next Ticket, changed bool) {
	if t.payment(orderID) != nil || slices.Contains(t.ReleasedOrders, orderID) {
		return t, false
	}
	next = t.clone()
	next.Paid = bounded(append(next.Paid, Payment{OrderID: orderID, At: at.UTC()}))
	next.Version++
	return next, true
}

// bounded keeps the newest MaxReleasedOrders entries.
func bounded[T any](xs []T) []T {
	if n := len(xs); n > MaxReleasedOrders {
		return xs[n-MaxReleasedOrders:]
	}
	return xs
}

// clone copies t so that changing the copy's slice never changes t's.
func (t Ticket) clone() Ticket {
	t.ReleasedOrders = slices.Clone(t.ReleasedOrders)
	t.StandbyOrders = slices.Clone(t.StandbyOrders)
	t.Paid = slices.Clone(t.Paid)
	return t
}
