// Package payment holds the payments service's domain: its replica of the
// orders service's orders, the rules for paying one, and the bookkeeping
// around Stripe that keeps one charge per order and refunds a charged order
// that ends cancelled.
package payment

import (
	"errors"
	"time"

	"github.com/ticketing/common/events"
)

// Order is the payments service's copy of an order, as the orders service
// last announced it. Version is the orders service's version, so the copy
// applies events in their order.
type Order struct {
	ID        string
	UserID    string
	Price     float64
	Status    string
	ExpiresAt time.Time
	Version   int64
}

// Cancelled reports whether the orders service has cancelled the order.
func (o Order) Cancelled() bool { return o.Status == events.OrderStatusCancelled }

// ReplicaStep is what the replica does with a versioned event.
type ReplicaStep int

const (
	// ReplicaApply: the event is the next version; store it.
	ReplicaApply ReplicaStep = iota
	// ReplicaSkip: the event, or a later one, is already stored.
	ReplicaSkip
	// ReplicaWait: an earlier event is still missing; leave this one for
	// redelivery so the events are applied in order.
	ReplicaWait
)

// NextReplicaStep applies an event of version incoming only on top of
// version incoming-1 (CONTRACT.md §3).
func NextReplicaStep(stored, incoming int64) ReplicaStep {
	switch {
	case incoming == stored+1:
		return ReplicaApply
	case incoming <= stored:
		return ReplicaSkip
	default:
		return ReplicaWait
	}
}

// Replica errors. They are plain errors, not caller-facing ones: a listener
// that returns them leaves the message unacked, and it comes back later.
var (
	// ErrOrderUnknown: an order:cancelled for an order whose order:created
	// has not been applied yet.
	ErrOrderUnknown = errors.New("order is not in the replica yet")
	// ErrCancelOutOfOrder: an order:cancelled whose predecessor has not been
	// applied yet.
	ErrCancelOutOfOrder = errors.New("order:cancelled arrived before the event it follows")
	// ErrOrderKnown is the store's answer to inserting an order it has.
	ErrOrderKnown = errors.New("order is in the replica already")
)
