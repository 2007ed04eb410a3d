// Package payment holds the payments service's domain: its replica of the
// orders service's orders, the rules for paying one, and the bookkeeping
// around Stripe that keeps one charge per order and refunds a charged order
// that ends cancelled.
package payment

import (
	"time"

	"github.com/ticketing/common/events"
)

// Order is the payments service's copy of an order, as the orders service
// last announced it. Version is the orders service's version: the copy
// keeps the newest it has heard of (CONTRACT.md §3). An order whose
// order:cancelled came before its order:created is kept cancelled with no
// UserID, Price or ExpiresAt until the late order:created fills them in.
type Order struct {
	ID        string
	UserID    string
	Price     float64
	Status    string
	ExpiresAt time.Time
	Version   int64
	// IntentID is the order's Stripe PaymentIntent, once one was created
	// for it; it is the service's own field, not the orders service's.
	IntentID string
}

// Cancelled reports whether the orders service has cancelled the order.
func (o Order) Cancelled() bool { return o.Status == events.OrderStatusCancelled }
