// Package listeners turns order and payment events into hold timers.
package listeners

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ticketing/common/events"
)

// Timers is what the listeners need from expiry.Scheduler.
type Timers interface {
	Schedule(ctx context.Context, orderID string, expiresAt time.Time) (bool, error)
	Cancel(orderID string) (bool, error)
}

// Handlers holds the event handlers. Each is idempotent, since NATS
// Streaming delivers at least once.
type Handlers struct {
	timers Timers
	log    *slog.Logger
}

// NewHandlers returns handlers that schedule and cancel through timers.
func NewHandlers(timers Timers, log *slog.Logger) *Handlers {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handlers{timers: timers, log: log}
}

// OrderCreated schedules the order's timer. A repeat schedules nothing. A
// Redis failure leaves the message unacked, so it comes back.
func (h *Handlers) OrderCreated(ctx context.Context, e events.OrderCreated, meta events.Meta) error {
	scheduled, err := h.timers.Schedule(ctx, e.ID, e.ExpiresAt)
	if err != nil {
		return err
	}
	if scheduled {
		h.log.Info("hold timer scheduled", "orderId", e.ID, "expiresAt", e.ExpiresAt.UTC().Format(events.TimeLayout))
	} else {
		h.log.Debug("hold timer already scheduled", "orderId", e.ID, "sequence", meta.Sequence)
	}
	return nil
}

// OrderCancelled drops the timer of an order that no longer holds its ticket.
func (h *Handlers) OrderCancelled(_ context.Context, e events.OrderCancelled, _ events.Meta) error {
	return h.cancel(e.ID, "cancelled")
}

// PaymentCreated drops the timer of an order that was paid.
func (h *Handlers) PaymentCreated(_ context.Context, e events.PaymentCreated, _ events.Meta) error {
	return h.cancel(e.OrderID, "paid")
}

func (h *Handlers) cancel(orderID, why string) error {
	cancelled, err := h.timers.Cancel(orderID)
	if err != nil {
		return err
	}
	if cancelled {
		h.log.Info("hold timer cancelled", "orderId", orderID, "because", why)
	}
	return nil
}

// Listen subscribes the handlers in the expiration queue group. On failure
// it closes what it had already subscribed.
func Listen(conn *events.Conn, h *Handlers, opts ...events.ListenOption) ([]*events.Listener, error) {
	var ls []*events.Listener
	add := func(l *events.Listener, err error) error {
		if err != nil {
			return err
		}
		ls = append(ls, l)
		return nil
	}
	err := add(events.Listen(conn, events.GroupExpiration, h.OrderCreated, opts...))
	if err == nil {
		err = add(events.Listen(conn, events.GroupExpiration, h.OrderCancelled, opts...))
	}
	if err == nil {
		err = add(events.Listen(conn, events.GroupExpiration, h.PaymentCreated, opts...))
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("listeners: %w", err), Close(ls))
	}
	return ls, nil
}

// Close closes every listener (keeping the durable positions).
func Close(ls []*events.Listener) error {
	var errs []error
	for _, l := range ls {
		errs = append(errs, l.Close())
	}
	return errors.Join(errs...)
}
