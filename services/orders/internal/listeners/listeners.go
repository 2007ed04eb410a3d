// Package listeners subscribes the orders service to the events it hears
// (CONTRACT.md §3): ticket:created and ticket:updated feed the tickets
// replica, expiration:complete and payment:created move orders on. Each
// handler only decodes, calls the order service and says whether the
// message is done (nil), should come back (a plain error) or never can be
// processed (events.ErrPoison).
package listeners

import (
	"context"
	"errors"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/events"
	"github.com/ticketing/services/orders/internal/order"
)

// Start subscribes every listener in the orders service's queue group.
func Start(conn *events.Conn, svc *order.Service, opts ...events.ListenOption) ([]*events.Listener, error) {
	return events.ListenAll(conn, events.GroupOrders, opts,
		events.On(TicketCreated(svc)),
		events.On(TicketUpdated(svc)),
		events.On(ExpirationComplete(svc)),
		events.On(PaymentCreated(svc)),
	)
}

// TicketCreated feeds the tickets replica. A create heard after a later
// update, or a repeat, is acked without change.
func TicketCreated(svc *order.Service) events.Handler[events.TicketCreated] {
	return func(ctx context.Context, msg events.TicketCreated, _ events.Meta) error {
		return svc.ApplyTicket(ctx, order.Ticket{ID: msg.ID, Title: msg.Title, Price: msg.Price, Version: msg.Version})
	}
}

// TicketUpdated feeds the tickets replica. An update carries the whole
// ticket, so one that overtook its predecessor (or its ticket:created) is
// applied at once; the older ones then change nothing. Nothing is left for
// redelivery but a store failure.
func TicketUpdated(svc *order.Service) events.Handler[events.TicketUpdated] {
	return func(ctx context.Context, msg events.TicketUpdated, _ events.Meta) error {
		return svc.ApplyTicket(ctx, order.Ticket{
			ID: msg.ID, Title: msg.Title, Price: msg.Price, Version: msg.Version, Withdrawn: msg.Withdrawn,
		})
	}
}

// ExpirationComplete cancels an order whose hold ran out.
func ExpirationComplete(svc *order.Service) events.Handler[events.ExpirationComplete] {
	return func(ctx context.Context, msg events.ExpirationComplete, _ events.Meta) error {
		return poisonIfUnknown(svc.Expire(ctx, msg.OrderID))
	}
}

// PaymentCreated completes a paid order.
func PaymentCreated(svc *order.Service) events.Handler[events.PaymentCreated] {
	return func(ctx context.Context, msg events.PaymentCreated, _ events.Meta) error {
		return poisonIfUnknown(svc.CompletePayment(ctx, msg.OrderID))
	}
}

// poisonIfUnknown marks an event about an order this service never made:
// orders are created here before any event names them, so it will never be
// found however often it comes back.
func poisonIfUnknown(err error) error {
	if errors.Is(err, errs.ErrNotFound) {
		return errors.Join(events.ErrPoison, err)
	}
	return err
}
