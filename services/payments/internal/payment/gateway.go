package payment

import (
	"context"
	"errors"
)

// Gateway is what the service needs from Stripe.
type Gateway interface {
	// Charge returns the charge id. A *DeclinedError means Stripe refused
	// and charged nothing; any other error leaves the outcome unknown.
	Charge(ctx context.Context, req ChargeRequest) (string, error)
	// Refund returns the refund id; ErrAlreadyRefunded when the charge was
	// refunded before. Any other error leaves the outcome unknown.
	Refund(ctx context.Context, req RefundRequest) (string, error)
	// CreateIntent creates a PaymentIntent, or returns the one Stripe made
	// before under the same idempotency key.
	CreateIntent(ctx context.Context, req IntentRequest) (Intent, error)
	// GetIntent reads a PaymentIntent; ErrIntentNotFound when Stripe has none
	// of that id.
	GetIntent(ctx context.Context, id string) (Intent, error)
}

// ChargeRequest charges Amount cents in USD from the card behind Token.
type ChargeRequest struct {
	IdempotencyKey string
	Token          string
	Amount         int64
}

// RefundRequest refunds a whole charge, or a whole PaymentIntent when
// PaymentIntentID is set (ChargeID is then empty).
type RefundRequest struct {
	IdempotencyKey  string
	ChargeID        string
	PaymentIntentID string
}

// DeclinedError is Stripe's refusal of a charge; Message is Stripe's words
// ("Your card was declined."), which the buyer sees.
type DeclinedError struct {
	Message string
}

func (e *DeclinedError) Error() string { return "stripe declined the charge: " + e.Message }

// ErrAlreadyRefunded is Stripe saying the charge has been refunded before.
var ErrAlreadyRefunded = errors.New("stripe: charge already refunded")
