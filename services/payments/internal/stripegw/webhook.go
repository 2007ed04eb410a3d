package stripegw

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/ticketing/services/payments/internal/payment"
)

// Webhook verifies Stripe's webhook deliveries with the endpoint's signing
// secret.
type Webhook struct {
	secret    string
	tolerance time.Duration
}

// NewWebhook verifies with secret (whsec_…). A signature older than
// webhook.DefaultTolerance (5 minutes) is refused, so a captured delivery
// cannot be replayed later; a replay within the window changes nothing,
// since paying is idempotent.
func NewWebhook(secret string) (*Webhook, error) {
	if secret == "" {
		return nil, errors.New("stripegw: a webhook signing secret is required")
	}
	return &Webhook{secret: secret, tolerance: webhook.DefaultTolerance}, nil
}

// intentObject is the part of a PaymentIntent the service reads. These
// fields are the same in every API version, which is why the event's
// api_version is not held against it.
type intentObject struct {
	ID       string            `json:"id"`
	Object   string            `json:"object"`
	Status   string            `json:"status"`
	Amount   int64             `json:"amount"`
	Metadata map[string]string `json:"metadata"`
}

// Parse verifies payload against the Stripe-Signature header and reads the
// event: payment.ErrBadSignature when it does not verify, and
// payment.ErrBadEvent when a signed payload cannot be read.
func (w *Webhook) Parse(payload []byte, signature string) (payment.StripeEvent, error) {
	ev, err := webhook.ConstructEventWithOptions(payload, signature, w.secret, webhook.ConstructEventOptions{
		Tolerance: w.tolerance,
		// The endpoint's API version is set in Stripe's dashboard and need
		// not be stripe-go's; stripe-mock and test payloads carry others.
		IgnoreAPIVersionMismatch: true,
	})
	if err != nil {
		if isSignatureError(err) {
			return payment.StripeEvent{}, fmt.Errorf("%w: %v", payment.ErrBadSignature, err)
		}
		return payment.StripeEvent{}, fmt.Errorf("%w: %v", payment.ErrBadEvent, err)
	}
	out := payment.StripeEvent{ID: ev.ID, Type: string(ev.Type)}
	if ev.Data != nil && len(ev.Data.Raw) > 0 {
		var obj intentObject
		if err := json.Unmarshal(ev.Data.Raw, &obj); err != nil {
			return payment.StripeEvent{}, fmt.Errorf("%w: %v", payment.ErrBadEvent, err)
		}
		if obj.Object == "payment_intent" {
			out.Intent = &payment.Intent{
				ID: obj.ID, Status: obj.Status, Amount: obj.Amount,
				OrderID: obj.Metadata[metaOrderID], UserID: obj.Metadata[metaUserID],
			}
		}
	}
	return out, nil
}

func isSignatureError(err error) bool {
	return errors.Is(err, webhook.ErrNotSigned) || errors.Is(err, webhook.ErrInvalidHeader) ||
		errors.Is(err, webhook.ErrNoValidSignature) || errors.Is(err, webhook.ErrTooOld)
}
