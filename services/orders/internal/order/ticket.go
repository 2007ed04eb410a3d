package order

import "errors"

// ReplicaStep is what the tickets replica does with an update.
type ReplicaStep int

const (
	// ReplicaApply: the update is the next version; store it.
	ReplicaApply ReplicaStep = iota
	// ReplicaSkip: the update, or a later one, is already stored.
	ReplicaSkip
	// ReplicaWait: an earlier update is still missing; leave this one for
	// redelivery so the updates are applied in order.
	ReplicaWait
)

// NextReplicaStep applies an update of version incoming only on top of
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
	// ErrTicketUnknown: an update for a ticket whose ticket:created has not
	// been applied yet.
	ErrTicketUnknown = errors.New("ticket is not in the replica yet")
	// ErrUpdateOutOfOrder: an update whose predecessor has not been applied yet.
	ErrUpdateOutOfOrder = errors.New("ticket update arrived before the one it follows")
	// ErrTicketKnown is the store's answer to inserting a ticket it has.
	ErrTicketKnown = errors.New("ticket is in the replica already")
)
