package ticket

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/events"
)

// Store is what the service needs from the database.
type Store interface {
	// Insert stores a new ticket with evs in its outbox.
	Insert(ctx context.Context, t Ticket, evs ...events.Payload) error
	// Get returns errs.ErrNotFound for an unknown id.
	Get(ctx context.Context, id string) (Ticket, error)
	// Update stores t, the new state of a ticket, with evs in its outbox,
	// only if the stored ticket is at t.Version-1; otherwise it writes
	// nothing and returns an error matching errs.ErrConflict.
	Update(ctx context.Context, t Ticket, evs ...events.Payload) error
	// List returns the tickets for sale (not reserved), newest first.
	List(ctx context.Context, p Page) ([]Ticket, error)
	// ListByOwner returns userID's tickets in every state, newest first.
	ListByOwner(ctx context.Context, userID string, p Page) ([]Ticket, error)
}

// OrderTickets remembers which ticket each order is for: payment:created
// names only the order. It is keyed by the order id, so a lookup is a read
// by _id on any store.
type OrderTickets interface {
	Remember(ctx context.Context, o OrderTicket) error
	// Get returns errs.ErrNotFound for an order it has not heard of.
	Get(ctx context.Context, orderID string) (OrderTicket, error)
}

// OrderTicket is what the service keeps of an order: its ticket and when
// its hold ends.
type OrderTicket struct {
	OrderID, TicketID string
	ExpiresAt         time.Time
}

// Listing is a ticket as its seller sees it: with the end of the hold on it,
// while one runs.
type Listing struct {
	Ticket
	HoldEnds time.Time // zero unless reserved
}

// ErrOrderNotHeard: a payment for an order whose order:created this service
// has not heard yet. It comes on another channel; the payment is tried
// again when the bus redelivers it.
var ErrOrderNotHeard = errors.New("order not heard of yet")

// maxAttempts bounds how often a change is re-read and tried again when
// someone else changed the ticket in between. Ten times the other services'
// errs.DefaultConflictAttempts: at an on-sale rush every buyer's
// order:created, their cancels and the seller's edits land on one ticket at
// once, and a change that gave up would wait out a whole ack wait for its
// redelivery. Each conflict means another change succeeded, so a change
// gives up only under contention no rush has shown.
const maxAttempts = 10 * errs.DefaultConflictAttempts

// Service applies the rules to tickets.
type Service struct {
	store  Store
	notify func(ids ...string) // wakes the outbox relay
	view   *ForSale            // nil: every read goes to the store
	orders OrderTickets        // nil: payments cannot be matched to tickets
	now    func() time.Time
}

// ServiceOption tunes a Service.
type ServiceOption func(*Service)

// WithView serves lists, and reads of tickets for sale, from view, and
// keeps view current with every write the service makes.
func WithView(view *ForSale) ServiceOption {
	return func(s *Service) { s.view = view }
}

// WithOrderTickets keeps which ticket each order is for in orders, so a
// payment marks its ticket sold.
func WithOrderTickets(orders OrderTickets) ServiceOption {
	return func(s *Service) { s.orders = orders }
}

// WithNotify wakes the outbox relay (its Notify) after each write that
// stored events.
func WithNotify(notify func(ids ...string)) ServiceOption {
	return func(s *Service) { s.notify = notify }
}

// WithClock stamps the payments the service hears with now.
func WithClock(now func() time.Time) ServiceOption {
	return func(s *Service) { s.now = now }
}

// NewService uses store for every write, and for reads the view (if any)
// cannot answer.
func NewService(store Store, opts ...ServiceOption) *Service {
	s := &Service{store: store, now: time.Now, notify: func(...string) {}}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// Create lists a new ticket for sale by userID at version 0.
func (s *Service) Create(ctx context.Context, userID string, d Draft) (Ticket, error) {
	t := Ticket{ID: primitive.NewObjectID().Hex(), Title: d.Title, Price: d.Price, UserID: userID}
	err := s.store.Insert(ctx, t, t.CreatedEvent())
	// Also on an error that may hide a stored write: the relay would
	// otherwise find its event only at its next sweep.
	if !errs.Refused(err) {
		s.notify(t.ID)
	}
	if err != nil {
		return Ticket{}, fmt.Errorf("create ticket: %w", err)
	}
	s.stored(t)
	return t, nil
}

// stored tells the view about a write that succeeded, before the caller
// hears of it, so that a list right after a write shows it.
func (s *Service) stored(t Ticket) {
	if s.view != nil {
		s.view.Apply(t)
	}
}

// Get returns one ticket, reserved or not: from the view while it lists
// the ticket for sale, else from the store by id.
func (s *Service) Get(ctx context.Context, id string) (Ticket, error) {
	if s.view != nil {
		if t, ok := s.view.Get(id); ok {
			return t, nil
		}
	}
	t, err := s.store.Get(ctx, id)
	if err == nil && t.Withdrawn {
		return Ticket{}, errs.ErrNotFound
	}
	return t, err
}

// List returns a page of the tickets for sale.
func (s *Service) List(ctx context.Context, p Page) ([]Ticket, error) {
	if s.view != nil {
		if ts, ok := s.view.List(p); ok {
			return ts, nil
		}
	}
	return s.store.List(ctx, p)
}

// Heard applies a ticket event of any copy of the service to the view.
func (s *Service) Heard(ctx context.Context, t Ticket) error {
	if s.view == nil {
		return nil
	}
	return s.view.Heard(ctx, s.store, t)
}

// Edit changes the title and price of ticket id for its owner userID.
func (s *Service) Edit(ctx context.Context, id, userID string, d Draft) (Ticket, error) {
	t, _, err := s.change(ctx, id, func(t Ticket) (Ticket, bool, error) {
		next, err := t.Edit(userID, d)
		return next, true, err
	})
	return t, err
}

// Withdraw takes ticket id off sale for its owner userID (Ticket.Withdraw):
// errs.ErrNotFound, then ErrWithdrawSold or ErrWithdrawReserved, then
// errs.ErrNotAuthorized.
func (s *Service) Withdraw(ctx context.Context, id, userID string) error {
	_, _, err := s.change(ctx, id, func(t Ticket) (Ticket, bool, error) {
		next, err := t.Withdraw(userID)
		return next, true, err
	})
	return err
}

// Reserve records that orderID holds ticket id (Ticket.Reserve). It returns
// the ticket and whether it changed; an order seen before changes nothing.
func (s *Service) Reserve(ctx context.Context, id, orderID string, expiresAt time.Time) (Ticket, bool, error) {
	// Remembered first: once the ticket is reserved the order can be paid.
	if s.orders != nil {
		if err := s.orders.Remember(ctx, OrderTicket{OrderID: orderID, TicketID: id, ExpiresAt: expiresAt}); err != nil {
			return Ticket{}, false, fmt.Errorf("remember ticket of order %s: %w", orderID, err)
		}
	}
	return s.step(ctx, id, func(t Ticket) (Ticket, bool) { return t.Reserve(orderID) })
}

// Release records that orderID was cancelled, freeing ticket id (or
// handing it to an order on standby) if that order held it
// (Ticket.Release). It returns the ticket and whether it changed.
func (s *Service) Release(ctx context.Context, id, orderID string) (Ticket, bool, error) {
	return s.step(ctx, id, func(t Ticket) (Ticket, bool) { return t.Release(orderID) })
}

// Mine is the page p of the tickets userID listed, in every state, newest
// first, each reserved one with the end of its hold.
func (s *Service) Mine(ctx context.Context, userID string, p Page) ([]Listing, error) {
	ts, err := s.store.ListByOwner(ctx, userID, p)
	if err != nil {
		return nil, err
	}
	out := make([]Listing, len(ts))
	for i, t := range ts {
		out[i].Ticket = t
		if t.Status() != StatusReserved || s.orders == nil {
			continue
		}
		ot, err := s.orders.Get(ctx, t.OrderID)
		switch {
		case err == nil:
			out[i].HoldEnds = ot.ExpiresAt
		case !errors.Is(err, errs.ErrNotFound): // held before orders were remembered: no end shown
			return nil, fmt.Errorf("hold of ticket %s: %w", t.ID, err)
		}
	}
	return out, nil
}

// Pay records that order orderID was paid (Ticket.Pay): its ticket is sold
// while the order holds it. It returns the ticket and whether it changed.
func (s *Service) Pay(ctx context.Context, orderID string) (Ticket, bool, error) {
	if s.orders == nil {
		return Ticket{}, false, errors.New("pay: the service keeps no tickets of orders")
	}
	ot, err := s.orders.Get(ctx, orderID)
	if errors.Is(err, errs.ErrNotFound) {
		return Ticket{}, false, fmt.Errorf("pay order %s: %w", orderID, ErrOrderNotHeard)
	}
	if err != nil {
		return Ticket{}, false, fmt.Errorf("pay order %s: %w", orderID, err)
	}
	return s.step(ctx, ot.TicketID, func(t Ticket) (Ticket, bool) { return t.Pay(orderID, s.now()) })
}

// step stores the result of a listener's rule, which never refuses: it
// changes the ticket or says there is nothing to do.
func (s *Service) step(ctx context.Context, id string, rule func(Ticket) (Ticket, bool)) (Ticket, bool, error) {
	return s.change(ctx, id, func(t Ticket) (Ticket, bool, error) {
		next, changed := rule(t)
		return next, changed, nil
	})
}

// change reads ticket id, applies rule, stores the result with a versioned
// update and says whether it wrote. A conflict means the ticket changed
// after it was read: read it again and let the rule decide anew (it may now
// refuse, say because the ticket got reserved meanwhile).
func (s *Service) change(ctx context.Context, id string, rule func(Ticket) (Ticket, bool, error)) (Ticket, bool, error) {
	var out Ticket
	var wrote bool
	err := errs.RetryOnConflict(maxAttempts, func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		t, err := s.store.Get(ctx, id)
		if err != nil {
			out = Ticket{}
			return err
		}
		next, write, err := rule(t)
		out, wrote = next, false
		if err != nil || !write {
			return err
		}
		err = s.store.Update(ctx, next, next.UpdatedEvent())
		if !errs.Refused(err) { // as in Create
			s.notify(id)
		}
		if err != nil {
			out = Ticket{}
			return fmt.Errorf("update ticket %s: %w", id, err)
		}
		s.stored(next)
		wrote = true
		return nil
	})
	if errors.Is(err, errs.ErrConflict) {
		return Ticket{}, false, fmt.Errorf("ticket %s kept changing: %w", id, err)
	}
	return out, wrote, err
}
