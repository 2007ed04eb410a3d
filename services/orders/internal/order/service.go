package order

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/events"
)

// Orders is what the service needs from the orders collection.
type Orders interface {
	// Insert stores a new order with evs in its outbox; ErrTicketReserved if
	// another active order holds the ticket.
	Insert(ctx context.Context, o Order, evs ...events.Payload) error
	// Get returns errs.ErrNotFound for an unknown id.
	Get(ctx context.Context, id string) (Order, error)
	// ListByUser returns a user's orders, oldest first.
	ListByUser(ctx context.Context, userID string) ([]Order, error)
	// Transition stores next (from's successor, one version up) with evs in
	// its outbox, only if the stored order is still at from's version;
	// otherwise it stores nothing and returns an error matching errs.ErrConflict.
	Transition(ctx context.Context, from, next Order, evs ...events.Payload) error
}

// Tickets is what the service needs from the tickets replica.
type Tickets interface {
	// Get returns errs.ErrNotFound for a ticket the replica does not have.
	Get(ctx context.Context, id string) (Ticket, error)
	// GetMany returns the tickets the replica has among ids, by id.
	GetMany(ctx context.Context, ids []string) (map[string]Ticket, error)
	// Apply stores t if the replica has no copy or an older one, and
	// reports whether it did (CONTRACT.md §3).
	Apply(ctx context.Context, t Ticket) (bool, error)
}

// Holds remembers, per ticket, the last order that reserved it and until
// when. It is written right after the reservation, not with it (the store
// has no transaction across collections), and it is how a buyer who lost
// the race learns, by the ticket's id, whether the holder's time is up:
// the orders are never searched for the holder, a query that is cheap on
// MongoDB's reservation index but reads every order on the local store,
// once per losing buyer in an on-sale rush.
//
// What the hint says, and why it is enough:
//   - a hold remembered until the future: whoever holds the ticket now is
//     that order, or one that reserved it after that order let it go and
//     so holds it longer (each hold is its creation + the window); a paid
//     order holds it for good. The ticket is held by right.
//   - a hold remembered until the past: if that order still holds the
//     ticket, its time is up and the buyer ends it. If it does not, a newer
//     order holds the ticket and its hint is on its way.
//   - nothing remembered: the ticket's first hold, its hint on its way.
//
// The hint is lost only if the process dies between the reservation and
// the hint (or the store refuses the hint). Then that hold ends on its
// timer alone, as every hold did before buyers could take over lapsed ones.
type Holds interface {
	Remember(ctx context.Context, ticketID, orderID string, until time.Time) error
	// Last is the last hold remembered for ticketID; found is false when
	// none is.
	Last(ctx context.Context, ticketID string) (h Hold, found bool, err error)
}

// Hold is the hint of one reservation: the order and when its hold ends.
type Hold struct {
	OrderID string
	Until   time.Time
}

// DefaultExpirationWindow is how long an order holds its ticket unless
// configured otherwise (EXPIRATION_WINDOW_SECONDS, CONTRACT.md §2).
const DefaultExpirationWindow = 15 * time.Minute

// maxAttempts bounds the re-read-and-retry loops after version conflicts. A
// conflict means someone else changed the record a moment ago; a few rounds
// settle any real contention, and an error after that is retried by the
// caller (a redelivery, or the buyer's next click).
const maxAttempts = errs.DefaultConflictAttempts

// Config is what NewService needs.
type Config struct {
	Orders  Orders
	Tickets Tickets
	// Holds tells a buyer who lost the race whether the holder's time is up.
	Holds Holds
	// Notify is called with the order's id after every write that stored
	// events, to wake the outbox relay. Nil means nobody needs waking.
	Notify func(ids ...string)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Window is how long a new order holds its ticket; 0 means
	// DefaultExpirationWindow.
	Window time.Duration
}

// Service applies the orders rules.
type Service struct {
	orders  Orders
	tickets Tickets
	holds   Holds
	notify  func(ids ...string)
	now     func() time.Time
	window  time.Duration
}

// NewService checks cfg and fills in defaults.
func NewService(cfg Config) (*Service, error) {
	if cfg.Orders == nil || cfg.Tickets == nil || cfg.Holds == nil {
		return nil, errors.New("order: service needs an orders store, a tickets store and a holds store")
	}
	if cfg.Window < 0 {
		return nil, fmt.Errorf("order: expiration window %v is negative", cfg.Window)
	}
	if cfg.Window == 0 {
		cfg.Window = DefaultExpirationWindow
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Notify == nil {
		cfg.Notify = func(...string) {}
	}
	return &Service{orders: cfg.Orders, tickets: cfg.Tickets, holds: cfg.Holds, notify: cfg.Notify, now: cfg.Now, window: cfg.Window}, nil
}

// Reserve creates userID's order for ticketID. There is no look-up of other
// orders first: the store's unique reservation index decides, so of many
// buyers racing for one ticket exactly one gets it. A hold that is past its
// expiresAt does not stand in the way, even if its timer has not fired yet:
// it is ended here, as the timer would end it, and the insert tried again.
func (s *Service) Reserve(ctx context.Context, userID, ticketID string) (Order, error) {
	t, err := s.tickets.Get(ctx, ticketID)
	if err != nil {
		return Order{}, fmt.Errorf("reserve: %w", err)
	}
	if t.Withdrawn {
		return Order{}, fmt.Errorf("reserve: ticket %s was withdrawn: %w", ticketID, errs.ErrNotFound)
	}
	o := New(primitive.NewObjectID().Hex(), userID, t, s.now(), s.window)
	for attempt := 1; ; attempt++ {
		err := s.orders.Insert(ctx, o, o.CreatedEvent())
		// Also on an error that may hide a stored write: the relay would
		// otherwise find its event only at its next sweep.
		if !errs.Refused(err, ErrTicketReserved) {
			s.notify(o.ID)
		}
		if err == nil {
			// Best effort: without the hint the hold ends on its timer alone
			// (see Holds), which is no reason to fail the buyer's order.
			_ = s.holds.Remember(ctx, ticketID, o.ID, o.ExpiresAt)
			return o, nil
		}
		if !errors.Is(err, ErrTicketReserved) || attempt == maxAttempts {
			return Order{}, fmt.Errorf("reserve: %w", err)
		}
		retry, lerr := s.endLapsedHold(ctx, ticketID, attempt == 1)
		if lerr != nil {
			return Order{}, fmt.Errorf("reserve: end the lapsed hold on ticket %s: %w", ticketID, lerr)
		}
		if !retry {
			return Order{}, fmt.Errorf("reserve: %w", err)
		}
	}
}

// endLapsedHold cancels the order holding ticketID if its hold has lapsed.
// It is the expiration path's cancel (Expire): one versioned transition to
// cancelled that frees the reservation and stores order:cancelled, so of the
// timer, a user's cancel and any number of buyers taking over, exactly one
// cancels and announces it; the others find it cancelled and store nothing.
// retry is false when the ticket is held by right (the holder's time is
// not up, it is paid, or a newer hold's hint is on its way: see Holds).
// firstTry allows one more insert when the hinted order no longer holds the
// ticket, which is all that tells a hold cancelled since this buyer's
// insert failed (the ticket is free) from a newer hold whose hint is on
// its way.
func (s *Service) endLapsedHold(ctx context.Context, ticketID string, firstTry bool) (retry bool, err error) {
	last, found, err := s.holds.Last(ctx, ticketID)
	if err != nil || !found || last.Until.After(s.now()) {
		return false, err
	}
	lapsed := false // the hinted order was seen holding the ticket past its time
	err = s.transition(ctx, last.OrderID, func(o Order) (Order, bool, error) {
		switch {
		case o.ReservationKey() == ticketID && o.Lapsed(s.now()):
			lapsed = true
			next, changed := o.Expire()
			return next, changed, nil
		case lapsed:
			return o, false, nil // another path ended it (or it was paid) since: try again
		case o.ReservationKey() != ticketID && firstTry:
			return o, false, nil // cancelled: maybe since the insert failed, so try again once
		default:
			return o, false, errHeldByRight // paid, its time not up, or a newer hold
		}
	}, cancelledEvent)
	if errors.Is(err, errHeldByRight) || errors.Is(err, errs.ErrNotFound) {
		return false, nil // (an order the hint names is never deleted)
	}
	return err == nil, err
}

// errHeldByRight stops a takeover whose holder keeps the ticket.
var errHeldByRight = errors.New("the ticket is held by right")

// ListForUser returns userID's orders, every status, oldest first, each with
// its ticket as the replica has it now.
func (s *Service) ListForUser(ctx context.Context, userID string) ([]Order, error) {
	orders, err := s.orders.ListByUser(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	if err := s.withCurrentTickets(ctx, orders); err != nil {
		return nil, err
	}
	return orders, nil
}

// GetForUser returns one order: errs.ErrNotFound if there is none, then
// errs.ErrNotAuthorized if it is not userID's.
func (s *Service) GetForUser(ctx context.Context, userID, id string) (Order, error) {
	o, err := s.orders.Get(ctx, id)
	if err != nil {
		return Order{}, fmt.Errorf("get order: %w", err)
	}
	if err := o.CheckOwner(userID); err != nil {
		return Order{}, err
	}
	one := []Order{o}
	if err := s.withCurrentTickets(ctx, one); err != nil {
		return Order{}, err
	}
	return one[0], nil
}

// withCurrentTickets shows each order's ticket as the tickets service last
// described it, as the Node edition's populate did; the copy taken when the
// order was made stands in should the replica not have it.
func (s *Service) withCurrentTickets(ctx context.Context, orders []Order) error {
	if len(orders) == 0 {
		return nil
	}
	ids := make([]string, 0, len(orders))
	for _, o := range orders {
		ids = append(ids, o.Ticket.ID)
	}
	current, err := s.tickets.GetMany(ctx, ids)
	if err != nil {
		return fmt.Errorf("read tickets of orders: %w", err)
	}
	for i := range orders {
		if t, ok := current[orders[i].Ticket.ID]; ok {
			orders[i].Ticket = t
		}
	}
	return nil
}

// CancelForUser is DELETE /api/orders/:id: errs.ErrNotFound, then
// errs.ErrNotAuthorized, then ErrCancelCompleted; an order already cancelled
// is left alone and publishes nothing.
func (s *Service) CancelForUser(ctx context.Context, userID, id string) error {
	err := s.transition(ctx, id, func(o Order) (Order, bool, error) {
		if err := o.CheckOwner(userID); err != nil {
			return o, false, err
		}
		return o.Cancel()
	}, cancelledEvent)
	if err != nil {
		return fmt.Errorf("cancel order: %w", err)
	}
	return nil
}

// Expire handles expiration:complete: cancel the order and announce it,
// unless it is complete or cancelled already. errs.ErrNotFound for an
// unknown order.
func (s *Service) Expire(ctx context.Context, id string) error {
	err := s.transition(ctx, id, func(o Order) (Order, bool, error) {
		next, changed := o.Expire()
		return next, changed, nil
	}, cancelledEvent)
	if err != nil {
		return fmt.Errorf("expire order: %w", err)
	}
	return nil
}

// CompletePayment handles payment:created: a created order becomes
// complete. errs.ErrNotFound for an unknown order.
func (s *Service) CompletePayment(ctx context.Context, id string) error {
	err := s.transition(ctx, id, func(o Order) (Order, bool, error) {
		next, changed := o.Complete()
		return next, changed, nil
	}, nil)
	if err != nil {
		return fmt.Errorf("complete order: %w", err)
	}
	return nil
}

func cancelledEvent(o Order) events.Payload { return o.CancelledEvent() }

// transition reads the order, lets step decide, and stores the result at the
// version it read. On a version conflict it reads again and lets step decide
// again, since the order may now be in a state step treats differently.
func (s *Service) transition(ctx context.Context, id string,
	step func(Order) (next Order, changed bool, err error), event func(Order) events.Payload,
) error {
	return errs.RetryOnConflict(maxAttempts, func() error {
		cur, err := s.orders.Get(ctx, id)
		if err != nil {
			return err
		}
		next, changed, err := step(cur)
		if err != nil || !changed {
			return err
		}
		var evs []events.Payload
		if event != nil {
			evs = append(evs, event(next))
		}
		err = s.orders.Transition(ctx, cur, next, evs...)
		if len(evs) > 0 && !errs.Refused(err) { // as in Reserve
			s.notify(id)
		}
		return err
	})
}

// ApplyTicket handles ticket:created and ticket:updated. Both carry the
// whole ticket, so the replica keeps whichever version is newest: an event
// that overtook its predecessor is applied at once, and the predecessor, a
// repeat or anything older is acked without change (CONTRACT.md §3).
func (s *Service) ApplyTicket(ctx context.Context, t Ticket) error {
	if _, err := s.tickets.Apply(ctx, t); err != nil {
		return fmt.Errorf("apply ticket %s version %d: %w", t.ID, t.Version, err)
	}
	return nil
}
