// Package listeners applies the orders service's events to tickets
// (CONTRACT.md §3): an order holds its ticket while it lives.
package listeners

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/events"
	"github.com/ticketing/services/tickets/internal/ticket"
)

// Start subscribes every listener in the tickets service's queue group; a
// nil logger discards the handlers' own traces.
func Start(conn *events.Conn, tickets *ticket.Service, logger *slog.Logger, opts ...events.ListenOption) ([]*events.Listener, error) {
	l := newListeners(tickets, logger)
	return events.ListenAll(conn, events.GroupTickets, opts,
		events.On(l.OrderCreated),
		events.On(l.OrderCancelled),
		events.On(l.PaymentCreated),
	)
}

// Listeners handles order:created, order:cancelled and payment:created.
type Listeners struct {
	tickets *ticket.Service
	log     *slog.Logger
}

func newListeners(tickets *ticket.Service, logger *slog.Logger) *Listeners {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Listeners{tickets: tickets, log: logger.With("component", "listeners")}
}

// OrderCreated reserves the order's ticket (ticket.Ticket.Reserve). A
// ticket another order holds is taken over at once: that order's
// cancellation is on its way on the other channel, and nothing is left for
// redelivery. A repeated event, or one for an order whose cancellation came
// first, changes nothing.
func (l *Listeners) OrderCreated(ctx context.Context, msg events.OrderCreated, _ events.Meta) error {
	t, changed, err := l.tickets.Reserve(ctx, msg.Ticket.ID, msg.ID, msg.ExpiresAt)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return fmt.Errorf("%w: order %s names unknown ticket %s", events.ErrPoison, msg.ID, msg.Ticket.ID)
	case err != nil:
		return fmt.Errorf("reserve ticket %s for order %s: %w", msg.Ticket.ID, msg.ID, err)
	}
	if changed {
		l.log.Debug("ticket reserved", "ticket", msg.Ticket.ID, "order", msg.ID, "standby", t.StandbyOrders)
	}
	return nil
}

// OrderCancelled frees the order's ticket if that order holds it, or hands
// it to an order on standby (ticket.Ticket.Release).
func (l *Listeners) OrderCancelled(ctx context.Context, msg events.OrderCancelled, _ events.Meta) error {
	t, changed, err := l.tickets.Release(ctx, msg.Ticket.ID, msg.ID)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return fmt.Errorf("%w: order %s names unknown ticket %s", events.ErrPoison, msg.ID, msg.Ticket.ID)
	case err != nil:
		return fmt.Errorf("release ticket %s from order %s: %w", msg.Ticket.ID, msg.ID, err)
	}
	if changed {
		l.log.Debug("order cancelled", "ticket", msg.Ticket.ID, "order", msg.ID, "reservedBy", t.OrderID)
	}
	return nil
}

// PaymentCreated marks the paid order's ticket sold while that order holds
// it (ticket.Ticket.Pay). A payment for an order whose order:created has not
// arrived yet (another channel) comes back with the redelivery.
func (l *Listeners) PaymentCreated(ctx context.Context, msg events.PaymentCreated, _ events.Meta) error {
	t, changed, err := l.tickets.Pay(ctx, msg.OrderID)
	if err != nil {
		return fmt.Errorf("payment %s of order %s: %w", msg.ID, msg.OrderID, err)
	}
	if changed {
		l.log.Debug("order paid", "ticket", t.ID, "order", msg.OrderID, "status", t.Status())
	}
	return nil
}
