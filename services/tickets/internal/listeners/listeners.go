// Package listeners applies the orders service's events to tickets
// (CONTRACT.md §3): an order holds its ticket while it lives.
package listeners

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/ticketing/common/events"
	"github.com/ticketing/services/tickets/internal/ticket"
)

// DefaultMaxWaits is how often an order:created for a ticket that another
// order still holds is left unacked, waiting for that order's cancellation,
// before it is dropped as poison: about a minute at the 5 s ack wait.
const DefaultMaxWaits = 12

// Listeners handles order:created and order:cancelled.
type Listeners struct {
	tickets  *ticket.Service
	log      *slog.Logger
	maxWaits uint32
}

// New returns the handlers; a nil logger discards. maxWaits <= 0 means
// DefaultMaxWaits.
func New(tickets *ticket.Service, logger *slog.Logger, maxWaits int) *Listeners {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if maxWaits <= 0 {
		maxWaits = DefaultMaxWaits
	}
	return &Listeners{tickets: tickets, log: logger.With("component", "listeners"), maxWaits: uint32(maxWaits)}
}

// Subscribe starts both listeners in the tickets service's durable queue
// group. On failure the ones already started are closed.
func (l *Listeners) Subscribe(conn *events.Conn, opts ...events.ListenOption) ([]*events.Listener, error) {
	created, err := events.Listen(conn, events.GroupTickets, l.OrderCreated, opts...)
	if err != nil {
		return nil, err
	}
	cancelled, err := events.Listen(conn, events.GroupTickets, l.OrderCancelled, opts...)
	if err != nil {
		return nil, errors.Join(err, created.Close())
	}
	return []*events.Listener{created, cancelled}, nil
}

// OrderCreated reserves the order's ticket. A repeated event, or one for an
// order whose cancellation came first, changes nothing. A ticket another
// order holds is waited for (the message is redelivered) since the other
// order's cancellation is on its way on another channel; after maxWaits
// redeliveries the message is dropped as poison and logged.
func (l *Listeners) OrderCreated(ctx context.Context, msg events.OrderCreated, meta events.Meta) error {
	_, changed, err := l.tickets.Reserve(ctx, msg.Ticket.ID, msg.ID)
	switch {
	case errors.Is(err, ticket.ErrNotFound):
		return fmt.Errorf("%w: order %s names unknown ticket %s", events.ErrPoison, msg.ID, msg.Ticket.ID)
	case errors.Is(err, ticket.ErrHeldByAnotherOrder) && meta.RedeliveryCount >= l.maxWaits:
		return fmt.Errorf("%w: order %s: ticket %s is still held by another order after %d redeliveries",
			events.ErrPoison, msg.ID, msg.Ticket.ID, meta.RedeliveryCount)
	case errors.Is(err, ticket.ErrHeldByAnotherOrder):
		return fmt.Errorf("order %s: ticket %s: %w; waiting for its cancellation", msg.ID, msg.Ticket.ID, err)
	case err != nil:
		return fmt.Errorf("reserve ticket %s for order %s: %w", msg.Ticket.ID, msg.ID, err)
	}
	if changed {
		l.log.Debug("ticket reserved", "ticket", msg.Ticket.ID, "order", msg.ID)
	}
	return nil
}

// OrderCancelled frees the order's ticket if that order holds it.
func (l *Listeners) OrderCancelled(ctx context.Context, msg events.OrderCancelled, _ events.Meta) error {
	t, changed, err := l.tickets.Release(ctx, msg.Ticket.ID, msg.ID)
	switch {
	case errors.Is(err, ticket.ErrNotFound):
		return fmt.Errorf("%w: order %s names unknown ticket %s", events.ErrPoison, msg.ID, msg.Ticket.ID)
	case err != nil:
		return fmt.Errorf("release ticket %s from order %s: %w", msg.Ticket.ID, msg.ID, err)
	}
	if changed {
		l.log.Debug("order cancelled", "ticket", msg.Ticket.ID, "order", msg.ID, "reservedBy", t.OrderID)
	}
	return nil
}
