package ticket

import (
	"context"
	"errors"
	"fmt"

	"github.com/ticketing/common/errs"
)

// Store is what the service needs from the database.
type Store interface {
	// Insert stores a new ticket (its ID is chosen by the store) together
	// with its ticket:created event, and returns it.
	Insert(ctx context.Context, t Ticket) (Ticket, error)
	// Find returns ErrNotFound for an unknown id.
	Find(ctx context.Context, id string) (Ticket, error)
	// Update stores t, the new state of a ticket, together with its
	// ticket:updated event, only if the stored ticket is at t.Version-1;
	// otherwise it writes nothing and returns an error matching
	// errs.ErrConflict.
	Update(ctx context.Context, t Ticket) error
	// List returns the tickets for sale (not reserved), newest first.
	List(ctx context.Context, p Page) ([]Ticket, error)
}

// maxAttempts bounds how often a change is re-read and tried again when
// someone else changed the ticket in between. Each conflict means another
// change succeeded, so a change gives up only under heavy contention.
const maxAttempts = 50

// Service applies the rules to tickets.
type Service struct {
	store Store
}

// NewService uses store for every read and write.
func NewService(store Store) *Service { return &Service{store: store} }

// Create lists a new ticket for sale by userID at version 0.
func (s *Service) Create(ctx context.Context, userID string, d Draft) (Ticket, error) {
	t, err := s.store.Insert(ctx, Ticket{Title: d.Title, Price: d.Price, UserID: userID})
	if err != nil {
		return Ticket{}, fmt.Errorf("create ticket: %w", err)
	}
	return t, nil
}

// Get returns one ticket, reserved or not.
func (s *Service) Get(ctx context.Context, id string) (Ticket, error) {
	return s.store.Find(ctx, id)
}

// List returns a page of the tickets for sale.
func (s *Service) List(ctx context.Context, p Page) ([]Ticket, error) {
	return s.store.List(ctx, p)
}

// Edit changes the title and price of ticket id for its owner userID.
func (s *Service) Edit(ctx context.Context, id, userID string, d Draft) (Ticket, error) {
	return s.change(ctx, id, func(t Ticket) (Ticket, bool, error) {
		next, err := t.Edit(userID, d)
		return next, true, err
	})
}

// Reserve records that orderID holds ticket id (Ticket.Reserve). It returns
// the ticket and whether it changed; an order seen before changes nothing.
func (s *Service) Reserve(ctx context.Context, id, orderID string) (Ticket, bool, error) {
	var changed bool
	t, err := s.change(ctx, id, func(t Ticket) (Ticket, bool, error) {
		next, ch := t.Reserve(orderID)
		changed = ch
		return next, ch, nil
	})
	return t, changed, err
}

// Release records that orderID was cancelled, freeing ticket id (or
// handing it to an order on standby) if that order held it
// (Ticket.Release). It returns the ticket and whether it changed.
func (s *Service) Release(ctx context.Context, id, orderID string) (Ticket, bool, error) {
	var changed bool
	t, err := s.change(ctx, id, func(t Ticket) (Ticket, bool, error) {
		next, ch := t.Release(orderID)
		changed = ch
		return next, ch, nil
	})
	return t, changed, err
}

// change reads ticket id, applies rule and stores the result with a
// versioned update. A conflict means the ticket changed after it was read:
// read it again and let the rule decide anew (it may now refuse, say
// because the ticket got reserved meanwhile).
func (s *Service) change(ctx context.Context, id string, rule func(Ticket) (Ticket, bool, error)) (Ticket, error) {
	var lastErr error
	for range maxAttempts {
		t, err := s.store.Find(ctx, id)
		if err != nil {
			return Ticket{}, err
		}
		next, write, err := rule(t)
		if err != nil || !write {
			return next, err
		}
		err = s.store.Update(ctx, next)
		if err == nil {
			return next, nil
		}
		if !errors.Is(err, errs.ErrConflict) {
			return Ticket{}, fmt.Errorf("update ticket %s: %w", id, err)
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return Ticket{}, fmt.Errorf("ticket %s kept changing: %w", id, lastErr)
}
