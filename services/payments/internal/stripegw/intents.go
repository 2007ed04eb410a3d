package stripegw

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/stripe/stripe-go/v76"

	"github.com/ticketing/services/payments/internal/payment"
)

// Metadata keys of the intents the service creates; a webhook or a
// read-back finds the order through them.
const (
	metaOrderID = "order_id"
	metaUserID  = "user_id"
)

// CreateIntent creates the order's PaymentIntent: Amount cents in USD, any
// payment method the account has enabled (the Payment Element shows them),
// the order and buyer in the metadata.
func (g *Gateway) CreateIntent(ctx context.Context, req payment.IntentRequest) (payment.Intent, error) {
	params := &stripe.PaymentIntentParams{
		Amount:                  stripe.Int64(req.Amount),
		Currency:                stripe.String(string(stripe.CurrencyUSD)),
		AutomaticPaymentMethods: &stripe.PaymentIntentAutomaticPaymentMethodsParams{Enabled: stripe.Bool(true)},
	}
	params.AddMetadata(metaOrderID, req.OrderID)
	params.AddMetadata(metaUserID, req.UserID)
	params.Context = ctx
	params.SetIdempotencyKey(req.IdempotencyKey)
	pi, err := g.api.PaymentIntents.New(params)
	if err != nil {
		if msg, ok := refusal(err); ok {
			return payment.Intent{}, &payment.DeclinedError{Message: msg}
		}
		return payment.Intent{}, fmt.Errorf("stripe create intent: %w", err)
	}
	in := toIntent(pi)
	// What was asked is what Stripe made; the answer's metadata is not
	// needed to say so (stripe-mock does not echo it).
	in.OrderID, in.UserID = req.OrderID, req.UserID
	return in, nil
}

// GetIntent reads a PaymentIntent; payment.ErrIntentNotFound when Stripe
// has none of that id.
func (g *Gateway) GetIntent(ctx context.Context, id string) (payment.Intent, error) {
	params := &stripe.PaymentIntentParams{}
	params.Context = ctx
	pi, err := g.api.PaymentIntents.Get(id, params)
	if err != nil {
		var se *stripe.Error
		if errors.As(err, &se) && se.HTTPStatusCode == http.StatusNotFound {
			return payment.Intent{}, fmt.Errorf("%w: %s", payment.ErrIntentNotFound, se.Msg)
		}
		return payment.Intent{}, fmt.Errorf("stripe read intent %s: %w", id, err)
	}
	return toIntent(pi), nil
}

func toIntent(pi *stripe.PaymentIntent) payment.Intent {
	return payment.Intent{
		ID: pi.ID, ClientSecret: pi.ClientSecret, Status: string(pi.Status), Amount: pi.Amount,
		OrderID: pi.Metadata[metaOrderID], UserID: pi.Metadata[metaUserID],
	}
}
