package payment

import (
	"errors"

	"github.com/ticketing/common/errs"
)

// IntentSucceeded is the PaymentIntent status that means the money moved.
const IntentSucceeded = "succeeded"

// EventIntentSucceeded is the Stripe event type that completes an order.
const EventIntentSucceeded = "payment_intent.succeeded"

// Intent is what the service reads of a Stripe PaymentIntent. OrderID and
// UserID come from the metadata the service set when it created the
// intent; they are empty for an intent it did not make.
type Intent struct {
	ID           string
	ClientSecret string
	Status       string
	Amount       int64
	OrderID      string
	UserID       string
}

// Succeeded reports whether the intent's money has moved.
func (i Intent) Succeeded() bool { return i.Status == IntentSucceeded }

// IntentRequest creates the PaymentIntent of an order: Amount cents in USD,
// with the order and its buyer in the metadata, so that a webhook or a
// read-back names the order without asking anyone else.
type IntentRequest struct {
	IdempotencyKey string
	OrderID        string
	UserID         string
	Amount         int64
}

// StripeEvent is a webhook delivery whose signature has been verified.
// Intent is set for payment_intent.* events.
type StripeEvent struct {
	ID     string
	Type   string
	Intent *Intent
}

// Errors of the PaymentIntent routes.
var (
	// ErrIntentNotFound is Stripe saying it has no PaymentIntent of that id.
	ErrIntentNotFound = errs.Wrap(errs.ErrNotFound, errors.New("stripe: no such payment intent"))
	// ErrBadSignature: a webhook delivery whose Stripe-Signature does not
	// verify (wrong secret, tampered body, too old a timestamp). Nothing
	// in it is believed.
	ErrBadSignature = errs.BadRequest("Invalid Stripe signature")
	// ErrBadEvent: a signed webhook delivery that cannot be read.
	ErrBadEvent = errs.BadRequest("Stripe event could not be read")
)

// IntentKey is the idempotency key of an order's PaymentIntent: derived
// from the order id, and apart from the charge's key, since Stripe refuses
// one key for two different requests.
func IntentKey(orderID string) string { return "intent-" + orderID }

// IntentRefundKey is the idempotency key of the refund of a PaymentIntent
// that paid an order someone had paid already.
func IntentRefundKey(intentID string) string { return "refund-" + intentID }

// NewIntentPayment is the payment record of an order paid through a
// PaymentIntent. It is born charged: the record is written only once Stripe
// says the money moved, so there is no attempt to lease.
func NewIntentPayment(orderID string, in Intent) Payment {
	return Payment{ID: PaymentID(orderID), OrderID: orderID, Status: StatusCharged, Amount: in.Amount, StripeID: in.ID, Intent: true}
}

// PaidByIntent records a succeeded PaymentIntent on a record whose last
// card attempt failed.
func (p Payment) PaidByIntent(in Intent) Payment {
	p.Status, p.Amount, p.StripeID, p.Intent, p.Token, p.Lease = StatusCharged, in.Amount, in.ID, true, "", nil
	return p.bump()
}
