package stripegw

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/ticketing/services/payments/internal/payment"
)

// Gateway charges, refunds and keeps PaymentIntents through a stripe-go client.
type Gateway struct {
	api *client.API
}

// NewGateway uses api (see NewClient).
func NewGateway(api *client.API) (*Gateway, error) {
	if api == nil || api.Charges == nil || api.Refunds == nil || api.PaymentIntents == nil {
		return nil, errors.New("stripegw: a stripe client is required")
	}
	return &Gateway{api: api}, nil
}

// Charge charges req.Amount cents in USD with the token as source.
func (g *Gateway) Charge(ctx context.Context, req payment.ChargeRequest) (string, error) {
	params := &stripe.ChargeParams{
		Amount:   stripe.Int64(req.Amount),
		Currency: stripe.String(string(stripe.CurrencyUSD)),
		Source:   &stripe.PaymentSourceSourceParams{Token: stripe.String(req.Token)},
	}
	params.Context = ctx
	params.SetIdempotencyKey(req.IdempotencyKey)
	ch, err := g.api.Charges.New(params)
	if err != nil {
		if msg, ok := refusal(err); ok {
			return "", &payment.DeclinedError{Message: msg}
		}
		return "", fmt.Errorf("stripe charge: %w", err)
	}
	return ch.ID, nil
}

// Refund refunds the whole charge, or the whole PaymentIntent.
func (g *Gateway) Refund(ctx context.Context, req payment.RefundRequest) (string, error) {
	params := &stripe.RefundParams{}
	if req.PaymentIntentID != "" {
		params.PaymentIntent = stripe.String(req.PaymentIntentID)
	} else {
		params.Charge = stripe.String(req.ChargeID)
	}
	params.Context = ctx
	params.SetIdempotencyKey(req.IdempotencyKey)
	r, err := g.api.Refunds.New(params)
	if err != nil {
		var se *stripe.Error
		if errors.As(err, &se) && se.Code == stripe.ErrorCodeChargeAlreadyRefunded {
			return "", fmt.Errorf("%w: %s", payment.ErrAlreadyRefunded, se.Msg)
		}
		return "", fmt.Errorf("stripe refund of %s%s: %w", req.ChargeID, req.PaymentIntentID, err)
	}
	return r.ID, nil
}

// refusal reports whether Stripe turned the charge down for good, so that
// nothing was charged and the buyer should hear Stripe's message: a card
// error (the decline), or a request Stripe rejected for what the buyer sent
// (an unknown token, an amount below the minimum). Everything else (network,
// Stripe's 5xx, our key, rate limits) leaves the outcome open.
func refusal(err error) (string, bool) {
	var se *stripe.Error
	if !errors.As(err, &se) {
		return "", false
	}
	refused := se.Type == stripe.ErrorTypeCard ||
		se.Type == stripe.ErrorTypeInvalidRequest &&
			(se.HTTPStatusCode == http.StatusBadRequest || se.HTTPStatusCode == http.StatusNotFound)
	if !refused {
		return "", false
	}
	if se.Msg == "" {
		return "Your card was declined.", true
	}
	return se.Msg, true
}
