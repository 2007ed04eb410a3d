// Package listeners turns order and payment events into hold timers.
package listeners

import (
	"context"
	"log/slog"
	"time"

	"github.com/ticketing/common/events"
)

// Timers is what the listeners need from expiry.Scheduler.
type Timers interface {
	Schedule(ctx context.Context, orderID string, expiresAt time.Time) (bool, error)
	Cancel(orderID string) (bool, error)
}

// Start subscribes every listener in the expiration service's queue group;
// a nil logger discards the handlers' own traces.
func Start(conn *events.Conn, timers Timers, log *slog.Logger, opts ...events.ListenOption) ([]*events.Listener, error) {
	h := newHandlers(timers, log)
	return events.ListenAll(conn, events.GroupExpiration, opts,
		events.On(h.OrderCreated),
		events.On(h.OrderCancelled),
		events.On(h.PaymentCreated),
	)
}

// Handlers holds the event handlers. Each is idempotent, since NATS
// Streaming delivers at least once.
type Handlers struct {
	timers Timers
	log    *slog.Logger
}

// newHandlers returns handlers that schedule and cancel through timers.
func newHandlers(timers Timers, log *slog.Logger) *Handlers {
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
