// Package listeners subscribes the payments service to the events it hears
// (CONTRACT.md §3): order:created and order:cancelled feed the orders
// replica, and a cancel of a charged order refunds it. Each handler only
// decodes, calls the payment service and says whether the message is done
// (nil) or should come back (an error); payloads that can never be
// processed are acked as poison by common/events.
package listeners

import (
	"context"

	"github.com/ticketing/common/events"
	"github.com/ticketing/services/payments/internal/payment"
)

// Start subscribes every listener in the payments service's queue group.
func Start(conn *events.Conn, svc *payment.Service, opts ...events.ListenOption) ([]*events.Listener, error) {
	return events.ListenAll(conn, events.GroupPayments, opts,
		events.On(OrderCreated(svc)),
		events.On(OrderCancelled(svc)),
	)
}

// OrderCreated feeds the orders replica; a repeat, or a create heard after
// its order's cancel, is acked without change (the latter fills in the
// order's details).
func OrderCreated(svc *payment.Service) events.Handler[events.OrderCreated] {
	return func(ctx context.Context, msg events.OrderCreated, _ events.Meta) error {
		return svc.AddOrder(ctx, payment.Order{
			ID: msg.ID, UserID: msg.UserID, Price: msg.Ticket.Price, Status: msg.Status,
			ExpiresAt: msg.ExpiresAt, Version: msg.Version,
		})
	}
}

// OrderCancelled cancels the replica's order over any older version, even
// before its order:created, and refunds it if it was charged. Only while a
// charge or refund of the order is under way (or the store fails) does it
// return an error, so the message comes back after the ack wait.
func OrderCancelled(svc *payment.Service) events.Handler[events.OrderCancelled] {
	return func(ctx context.Context, msg events.OrderCancelled, _ events.Meta) error {
		return svc.CancelOrder(ctx, msg.ID, msg.Version)
	}
}
