// Package order holds the orders service's domain: orders and the rules for
// reserving, cancelling, expiring and paying them, and the service's use of
// its replica of tickets.
package order

import (
	"time"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/events"
)

// Status is an order's state; the values are wire values (CONTRACT.md §1.3).
type Status string

const (
	StatusCreated         Status = events.OrderStatusCreated
	StatusCancelled       Status = events.OrderStatusCancelled
	StatusAwaitingPayment Status = events.OrderStatusAwaitingPayment
	StatusComplete        Status = events.OrderStatusComplete
)

// Ticket is the orders service's copy of a ticket, as the tickets service
// last announced it.
type Ticket struct {
	ID      string
	Title   string
	Price   float64
	Version int64
	// Withdrawn: its seller took it off sale; no new order may hold it.
	Withdrawn bool
}

// Order is one buyer's hold on (and, once paid, purchase of) one ticket.
type Order struct {
	ID        string
	UserID    string
	Status    Status
	ExpiresAt time.Time
	Ticket    Ticket
	Version   int64
}

// Errors the routes answer with (CONTRACT.md §2, orders).
var (
	ErrTicketReserved  = errs.BadRequest("Ticket is already reserved")
	ErrCancelCompleted = errs.BadRequest("Cannot cancel a completed order")
)

// New is a fresh order of userID for t, held until now + window. expiresAt is
// cut to milliseconds, the precision of the wire format and of the database,
// so the response, the stored order and the event all say the same time.
func New(id, userID string, t Ticket, now time.Time, window time.Duration) Order {
	return Order{
		ID:        id,
		UserID:    userID,
		Status:    StatusCreated,
		ExpiresAt: now.Add(window).UTC().Truncate(time.Millisecond),
		Ticket:    t,
		Version:   0,
	}
}

// Active reports whether the order holds its ticket. A completed order keeps
// it for good; only a cancelled one lets it go.
func (o Order) Active() bool { return o.Status != StatusCancelled }

// ReservationKey is the value of the uniquely indexed field that makes a
// reservation atomic: the ticket's id while the order holds the ticket, so a
// second active order for it cannot be stored, and a value only this order
// has once it is cancelled, so any number of cancelled orders may name it.
func (o Order) ReservationKey() string {
	if o.Active() {
		return o.Ticket.ID
	}
	return "cancelled:" + o.ID
}

// CheckOwner refuses anyone but the buyer.
func (o Order) CheckOwner(userID string) error {
	if o.UserID != userID {
		return errs.ErrNotAuthorized
	}
	return nil
}

// Cancel is the buyer's cancel: a completed order cannot be cancelled, and
// cancelling a cancelled order changes nothing (changed is false).
func (o Order) Cancel() (next Order, changed bool, err error) {
	switch o.Status {
	case StatusComplete:
		return o, false, ErrCancelCompleted
	case StatusCancelled:
		return o, false, nil
	}
	return o.bump(StatusCancelled), true, nil
}

// Expire ends the hold when its time is up. A paid order is the buyer's for
// good and a cancelled one is already released, so both stay as they are.
func (o Order) Expire() (next Order, changed bool) {
	switch o.Status {
	case StatusComplete, StatusCancelled:
		return o, false
	}
	return o.bump(StatusCancelled), true
}

// Lapsed reports whether the order is an unpaid hold whose time is up at
// now: from expiresAt on, the instant payments stops taking its payment, so
// the ticket may go to the next buyer before the timer has fired.
func (o Order) Lapsed(now time.Time) bool {
	switch o.Status {
	case StatusComplete, StatusCancelled:
		return false
	}
	return !now.Before(o.ExpiresAt)
}

// Complete records a payment. A payment for a cancelled order leaves it
// cancelled (payments refunds it), and a second one changes nothing.
func (o Order) Complete() (next Order, changed bool) {
	switch o.Status {
	case StatusComplete, StatusCancelled:
		return o, false
	}
	return o.bump(StatusComplete), true
}

func (o Order) bump(s Status) Order {
	o.Status = s
	o.Version++
	return o
}

// CreatedEvent is the order:created event of a new order.
func (o Order) CreatedEvent() events.OrderCreated {
	return events.OrderCreated{
		ID:        o.ID,
		Version:   o.Version,
		Status:    string(o.Status),
		UserID:    o.UserID,
		ExpiresAt: o.ExpiresAt,
		Ticket:    events.OrderCreatedTicket{ID: o.Ticket.ID, Price: o.Ticket.Price},
	}
}

// CancelledEvent is the order:cancelled event of an order just cancelled.
func (o Order) CancelledEvent() events.OrderCancelled {
	return events.OrderCancelled{
		ID:      o.ID,
		Version: o.Version,
		Ticket:  events.OrderCancelledTicket{ID: o.Ticket.ID},
	}
}
