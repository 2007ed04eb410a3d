package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/events"
)

// Every refusal of POST /api/payments, with its exact status and body.
func TestPayRefusals(t *testing.T) {
	h := newHarness(t, stripeMock(t))
	buyer, stranger := newUser(t), newUser(t)

	open := h.order(t, buyer, 20.5)
	cancelled := h.order(t, buyer, 20.5)
	h.cancel(t, cancelled)
	paidOrder := h.order(t, buyer, 20.5)
	h.paid(t, buyer, paidOrder, "tok_visa")
	expiring := h.order(t, buyer, 20.5)
	paidThenExpired := h.order(t, buyer, 20.5)
	h.paid(t, buyer, paidThenExpired, "tok_visa")
	h.clock.Advance(15 * time.Minute) // expiring and paidThenExpired reach their expiresAt
	fresh := h.order(t, buyer, 20.5)
	chargesBefore := len(h.stripe.to("/v1/charges"))

	body := func(orderID string) string { return `{"token":"tok_visa","orderId":"` + orderID + `"}` }
	tests := []struct {
		name   string
		who    user
		body   string
		status int
		want   string
	}{
		{"anonymous with a bad body: auth first", anonymous, `{"token":""}`, 401, `{"errors":[{"message":"Not authorized"}]}`},
		{"anonymous", anonymous, body(open), 401, `{"errors":[{"message":"Not authorized"}]}`},
		{"empty body", buyer, ``, 400,
			`{"errors":[{"message":"Token is required","field":"token"},{"message":"OrderId must be provided","field":"orderId"}]}`},
		{"blank token", buyer, `{"token":"   ","orderId":"` + open + `"}`, 400,
			`{"errors":[{"message":"Token is required","field":"token"}]}`},
		{"token not a string", buyer, `{"token":42,"orderId":"` + open + `"}`, 400,
			`{"errors":[{"message":"Token is required","field":"token"}]}`},
		{"orderId not 24-hex, token missing", buyer, `{"orderId":"123"}`, 400,
			`{"errors":[{"message":"Token is required","field":"token"},{"message":"OrderId must be provided","field":"orderId"}]}`},
		{"orderId not a string", buyer, `{"token":"tok_visa","orderId":7}`, 400,
			`{"errors":[{"message":"OrderId must be provided","field":"orderId"}]}`},
		{"malformed json", buyer, `{"token":`, 400, `{"errors":[{"message":"Request body is not valid JSON"}]}`},
		{"not an object", buyer, `["tok_visa"]`, 400, `{"errors":[{"message":"Request body must be a JSON object"}]}`},
		{"unknown order", buyer, body(oid()), 404, `{"errors":[{"message":"Not Found"}]}`},
		{"someone else's order", stranger, body(open), 401, `{"errors":[{"message":"Not authorized"}]}`},
		{"someone else's cancelled order: 401 before 400", stranger, body(cancelled), 401, `{"errors":[{"message":"Not authorized"}]}`},
		{"cancelled order", buyer, body(cancelled), 400, `{"errors":[{"message":"Cannot pay for an cancelled order"}]}`},
		{"paid order", buyer, body(paidOrder), 400, `{"errors":[{"message":"Order has already been paid"}]}`},
		{"paid and expired: already paid first", buyer, body(paidThenExpired), 400,
			`{"errors":[{"message":"Order has already been paid"}]}`},
		{"expired order", buyer, body(expiring), 400, `{"errors":[{"message":"Order has expired"}]}`},
		{"unknown route", buyer, ``, 404, `{"errors":[{"message":"Not Found"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/api/payments"
			if tt.name == "unknown route" {
				path = "/api/payments/" + open
			}
			r := h.do(t, tt.who, "POST", path, tt.body)
			assert.Equal(t, tt.status, r.status, r.body)
			assert.JSONEq(t, tt.want, r.body)
		})
	}
	assert.Len(t, h.stripe.to("/v1/charges"), chargesBefore, "no refusal reaches Stripe")
	assert.Empty(t, h.payments(t, open), "no refusal leaves a payment record")

	// The uppercase spelling of an id names the same order.
	h.paid(t, buyer, strings.ToUpper(fresh), "tok_visa")
	assert.Equal(t, "charged", h.payment(t, fresh).Status)
}

// The success path against stripe-mock: one charge of round(price*100)
// cents in usd, with the token as source and the order id as idempotency
// key; the record and its payment:created go out together.
func TestPayChargesStripeMock(t *testing.T) {
	h := newHarness(t, stripeMock(t))
	created := observe[events.PaymentCreated](t, h)
	buyer := newUser(t)
	orderID := h.order(t, buyer, 20.50)

	paymentID := h.paid(t, buyer, orderID, " tok_visa ")

	calls := h.stripe.to("/v1/charges")
	require.Len(t, calls, 1)
	c := calls[0]
	assert.Equal(t, "POST", c.Method)
	assert.Equal(t, "2050", c.Form.Get("amount"), "20.50 is 2050 cents")
	assert.Equal(t, "usd", c.Form.Get("currency"))
	assert.Equal(t, "tok_visa", c.Form.Get("source"), "the token, trimmed, is the source")
	assert.Equal(t, orderID, c.IdempotencyKey)

	rec := h.payment(t, orderID)
	assert.Equal(t, paymentID, rec.ID.Hex())
	assert.Equal(t, "charged", rec.Status)
	assert.Equal(t, int64(2050), rec.Amount)
	assert.Regexp(t, `^ch_`, rec.StripeID, "stripe-mock's charge id")
	assert.Empty(t, rec.Token, "the token is dropped once the charge is recorded")
	assert.Nil(t, rec.Lease)

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, []events.PaymentCreated{{ID: paymentID, OrderID: orderID, StripeID: rec.StripeID}}, created.all())
	}, waitFor, tick)
	h.waitPublished(t, orderID)

	again := h.pay(t, buyer, orderID, "tok_visa")
	assert.Equal(t, http.StatusBadRequest, again.status)
	assert.JSONEq(t, `{"errors":[{"message":"Order has already been paid"}]}`, again.body)
	assert.Len(t, h.stripe.to("/v1/charges"), 1, "a second payment never reaches Stripe")
}

// A decline is a 402 with Stripe's message and charges nothing; the buyer
// may then pay with another card, under a key of its own, since Stripe
// stores a key's decline and would answer the same key with it again.
func TestDeclineAnswers402(t *testing.T) {
	stripe := newStandIn()
	h := newHarness(t, stripe)
	created := observe[events.PaymentCreated](t, h)
	buyer := newUser(t)
	orderID := h.order(t, buyer, 12.34)

	r := h.pay(t, buyer, orderID, declinedToken)
	assert.Equal(t, http.StatusPaymentRequired, r.status)
	assert.JSONEq(t, `{"errors":[{"message":"Your card was declined."}]}`, r.body)
	calls := h.stripe.to("/v1/charges")
	require.Len(t, calls, 1)
	assert.Equal(t, orderID, calls[0].IdempotencyKey, "the Idempotency-Key header is the order id")
	assert.Equal(t, "1234", calls[0].Form.Get("amount"))
	rec := h.payment(t, orderID)
	assert.Equal(t, "failed", rec.Status)
	assert.Empty(t, rec.StripeID)
	assert.Empty(t, rec.Token)

	// The same card again: Stripe answers the new key with a new decline.
	r = h.pay(t, buyer, orderID, declinedToken)
	assert.Equal(t, http.StatusPaymentRequired, r.status, r.body)

	paymentID := h.paid(t, buyer, orderID, "tok_visa")
	calls = h.stripe.to("/v1/charges")
	require.Len(t, calls, 3)
	assert.Equal(t, []string{orderID, orderID + "-1", orderID + "-2"},
		[]string{calls[0].IdempotencyKey, calls[1].IdempotencyKey, calls[2].IdempotencyKey})
	charges, _ := stripe.counts()
	assert.Equal(t, 1, charges)
	assert.Equal(t, paymentID, h.payment(t, orderID).ID.Hex(), "one record per order, through every attempt")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Len(c, created.all(), 1, "declines publish nothing")
	}, waitFor, tick)
}

// When Stripe's answer is lost, the outcome is unknown: the buyer hears 503,
// and the next try sends the very same request (key, token, amount), which
// Stripe answers from its idempotency record: one charge, never two.
func TestLostAnswerIsRepeatedNotDoubled(t *testing.T) {
	stripe := newStandIn()
	stripe.loseAnswers = 1
	h := newHarness(t, stripe)
	buyer := newUser(t)
	orderID := h.order(t, buyer, 30)

	r := h.pay(t, buyer, orderID, "tok_visa")
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.JSONEq(t, `{"errors":[{"message":"The payment provider did not answer, try again"}]}`, r.body)
	rec := h.payment(t, orderID)
	assert.Equal(t, "pending", rec.Status)
	assert.Nil(t, rec.Lease, "released at once, so the buyer may retry")

	paymentID := h.paid(t, buyer, orderID, "tok_mastercard")
	calls := h.stripe.to("/v1/charges")
	require.Len(t, calls, 2)
	for _, c := range calls {
		assert.Equal(t, orderID, c.IdempotencyKey)
		assert.Equal(t, "tok_visa", c.Form.Get("source"), "the repeat is the first request, unchanged")
		assert.Equal(t, "3000", c.Form.Get("amount"))
	}
	charges, _ := stripe.counts()
	assert.Equal(t, 1, charges)
	rec = h.payment(t, orderID)
	assert.Equal(t, paymentID, rec.ID.Hex())
	assert.Equal(t, "ch_standin_1", rec.StripeID)
}
