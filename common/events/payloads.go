package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ticketing/common/ids"
)

// Payload is an event body: it knows its subject and can check that the
// fields every listener relies on are there.
type Payload interface {
	Subject() Subject
	Validate() error
}

// ErrInvalidPayload marks a message body that is not a JSON object of the
// expected shape. Such a message can never be processed, so listeners ack it.
var ErrInvalidPayload = errors.New("invalid event payload")

// TimeLayout is the contract's time format: ISO-8601 in UTC with exactly three
// fractional digits, as JavaScript's Date.toISOString writes it. Format only
// times already converted with UTC(), or the zone suffix is not "Z".
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// Order status wire values.
const (
	OrderStatusCreated         = "created"
	OrderStatusCancelled       = "cancelled"
	OrderStatusAwaitingPayment = "awaiting:payment"
	OrderStatusComplete        = "complete"
)

// TicketCreated is published by tickets when a ticket is created.
type TicketCreated struct {
	ID      string  `json:"id"`
	Version int64   `json:"version"`
	Title   string  `json:"title"`
	Price   float64 `json:"price"`
	UserID  string  `json:"userId"`
}

// TicketUpdated is published by tickets on every change, including
// reservation (OrderID set) and release (OrderID empty, so omitted).
type TicketUpdated struct {
	ID      string  `json:"id"`
	Version int64   `json:"version"`
	Title   string  `json:"title"`
	Price   float64 `json:"price"`
	UserID  string  `json:"userId"`
	OrderID string  `json:"orderId,omitempty"`
	// Withdrawn [added]: its seller took it off sale; replicas refuse new
	// orders for it. Services of the Node edition ignore the field.
	Withdrawn bool `json:"withdrawn,omitempty"`
}

// OrderCreatedTicket is the part of the ticket an order:created event carries.
type OrderCreatedTicket struct {
	ID    string  `json:"id"`
	Price float64 `json:"price"`
}

// OrderCreated is published by orders when a ticket is reserved.
type OrderCreated struct {
	ID        string             `json:"id"`
	Version   int64              `json:"version"`
	Status    string             `json:"status"`
	UserID    string             `json:"userId"`
	ExpiresAt time.Time          `json:"expiresAt"`
	Ticket    OrderCreatedTicket `json:"ticket"`
}

// OrderCancelledTicket is the part of the ticket an order:cancelled event carries.
type OrderCancelledTicket struct {
	ID string `json:"id"`
}

// OrderCancelled is published by orders when an order is cancelled.
type OrderCancelled struct {
	ID      string               `json:"id"`
	Version int64                `json:"version"`
	Ticket  OrderCancelledTicket `json:"ticket"`
}

// ExpirationComplete is published by expiration when an order's hold ends.
type ExpirationComplete struct {
	OrderID string `json:"orderId"`
}

// PaymentCreated is published by payments after a successful charge.
type PaymentCreated struct {
	ID       string `json:"id"`
	OrderID  string `json:"orderId"`
	StripeID string `json:"stripeId"`
}

func (TicketCreated) Subject() Subject      { return SubjectTicketCreated }
func (TicketUpdated) Subject() Subject      { return SubjectTicketUpdated }
func (OrderCreated) Subject() Subject       { return SubjectOrderCreated }
func (OrderCancelled) Subject() Subject     { return SubjectOrderCancelled }
func (ExpirationComplete) Subject() Subject { return SubjectExpirationComplete }
func (PaymentCreated) Subject() Subject     { return SubjectPaymentCreated }

// The versioned payloads are the ones replicas apply by version. A missing
// version would decode as 0 and look like a valid first version, so Decode
// checks that the key is really there.
func (TicketCreated) versioned()  {}
func (TicketUpdated) versioned()  {}
func (OrderCreated) versioned()   {}
func (OrderCancelled) versioned() {}

type versioned interface{ versioned() }

// MarshalJSON writes ExpiresAt in the contract's format; encoding/json's
// default (RFC 3339 with nanoseconds and the local offset) is not what the
// Node edition and the client parse. It lists the fields again, in the
// contract's order: keep it in step with OrderCreated.
func (e OrderCreated) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID        string             `json:"id"`
		Version   int64              `json:"version"`
		Status    string             `json:"status"`
		UserID    string             `json:"userId"`
		ExpiresAt string             `json:"expiresAt"`
		Ticket    OrderCreatedTicket `json:"ticket"`
	}{e.ID, e.Version, e.Status, e.UserID, e.ExpiresAt.UTC().Format(TimeLayout), e.Ticket})
}

func (e TicketCreated) Validate() error {
	v := validator{subject: e.Subject()}
	v.objectID("id", e.ID)
	v.version(e.Version)
	v.nonEmpty("title", e.Title)
	v.price("price", e.Price)
	v.objectID("userId", e.UserID)
	return v.err()
}

func (e TicketUpdated) Validate() error {
	v := validator{subject: e.Subject()}
	v.objectID("id", e.ID)
	v.version(e.Version)
	v.nonEmpty("title", e.Title)
	v.price("price", e.Price)
	v.objectID("userId", e.UserID)
	if e.OrderID != "" {
		v.objectID("orderId", e.OrderID)
	}
	return v.err()
}

func (e OrderCreated) Validate() error {
	v := validator{subject: e.Subject()}
	v.objectID("id", e.ID)
	v.version(e.Version)
	switch e.Status {
	case OrderStatusCreated, OrderStatusCancelled, OrderStatusAwaitingPayment, OrderStatusComplete:
	default:
		v.fail("status", fmt.Sprintf("unknown status %q", e.Status))
	}
	v.objectID("userId", e.UserID)
	if e.ExpiresAt.IsZero() {
		v.fail("expiresAt", "is required")
	}
	v.objectID("ticket.id", e.Ticket.ID)
	v.price("ticket.price", e.Ticket.Price)
	return v.err()
}

func (e OrderCancelled) Validate() error {
	v := validator{subject: e.Subject()}
	v.objectID("id", e.ID)
	v.version(e.Version)
	v.objectID("ticket.id", e.Ticket.ID)
	return v.err()
}

func (e ExpirationComplete) Validate() error {
	v := validator{subject: e.Subject()}
	v.objectID("orderId", e.OrderID)
	return v.err()
}

func (e PaymentCreated) Validate() error {
	v := validator{subject: e.Subject()}
	v.objectID("id", e.ID)
	v.objectID("orderId", e.OrderID)
	v.nonEmpty("stripeId", e.StripeID)
	return v.err()
}

// Decode parses and validates a message body. Every error it returns wraps
// ErrInvalidPayload: the message is malformed and will stay malformed.
func Decode[T Payload](data []byte) (T, error) {
	var msg T
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return msg, fmt.Errorf("%w: %s: body is not a JSON object", ErrInvalidPayload, msg.Subject())
	}
	if err := json.Unmarshal(trimmed, &msg); err != nil {
		return msg, fmt.Errorf("%w: %s: %w", ErrInvalidPayload, msg.Subject(), err)
	}
	if _, ok := any(msg).(versioned); ok {
		var probe struct {
			Version *json.RawMessage `json:"version"`
		}
		// Cannot fail: the same bytes just decoded into a struct.
		_ = json.Unmarshal(trimmed, &probe)
		if probe.Version == nil {
			return msg, fmt.Errorf("%w: %s: version: is required", ErrInvalidPayload, msg.Subject())
		}
	}
	if err := msg.Validate(); err != nil {
		return msg, err
	}
	return msg, nil
}

// validator collects every problem of one payload, so one log line says all
// that is wrong with a poison message.
type validator struct {
	subject  Subject
	problems []string
}

func (v *validator) fail(field, problem string) {
	v.problems = append(v.problems, field+": "+problem)
}

func (v *validator) objectID(field, s string) {
	if s == "" {
		v.fail(field, "is required")
	} else if !ids.IsObjectID(s) {
		v.fail(field, fmt.Sprintf("%q is not a 24-hex id", s))
	}
}

func (v *validator) nonEmpty(field, s string) {
	if strings.TrimSpace(s) == "" {
		v.fail(field, "is required")
	}
}

func (v *validator) version(n int64) {
	if n < 0 {
		v.fail("version", fmt.Sprintf("%d is negative", n))
	}
}

// Tickets only ever have a price > 0 (CONTRACT.md §2), so 0 here means the
// field was missing.
func (v *validator) price(field string, p float64) {
	if !(p > 0) {
		v.fail(field, "must be greater than 0")
	}
}

func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s: %s", ErrInvalidPayload, v.subject, strings.Join(v.problems, "; "))
}
