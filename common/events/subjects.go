// Package events is the event bus every service shares: the subjects and
// payloads of CONTRACT.md §3, a NATS Streaming connection that survives a
// server restart, a publisher and the listener base (durable queue group,
// manual ack, bounded worker pool, poison messages acked and logged).
package events

// Subject is a NATS Streaming channel name. The values are wire values shared
// with the Node.js edition, so they must never change.
type Subject string

const (
	SubjectTicketCreated      Subject = "ticket:created"
	SubjectTicketUpdated      Subject = "ticket:updated"
	SubjectOrderCreated       Subject = "order:created"
	SubjectOrderCancelled     Subject = "order:cancelled"
	SubjectExpirationComplete Subject = "expiration:complete"
	SubjectPaymentCreated     Subject = "payment:created"
)

// Queue group names. The durable name equals the queue group name, so a
// service's replicas share one position in each channel and a restarted
// service resumes where the group left off.
const (
	GroupOrders     = "orders-service"
	GroupTickets    = "tickets-service"
	GroupPayments   = "payments-service"
	GroupExpiration = "expiration-service"
)

func (s Subject) String() string { return string(s) }
