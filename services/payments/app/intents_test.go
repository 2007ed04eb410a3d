package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76/webhook"
	"go.mongodb.org/mongo-driver/bson"

	"github.com/ticketing/common/events"
	"github.com/ticketing/common/session"
	"github.com/ticketing/common/testkit"
	"github.com/ticketing/services/payments/app"
)

// webhookSecret is the harness's webhook signing secret.
const webhookSecret = "whsec_test_payments"

// createIntent is POST /api/payments/intents for orderID.
func (h *harness) createIntent(t testing.TB, u user, orderID string) response {
	t.Helper()
	return h.do(t, u, "POST", "/api/payments/intents", `{"orderId":"`+orderID+`"}`)
}

// intent requires a 201 {id, clientSecret} and returns both.
// withIntent is the start of most intent tests: a fleet with a Stripe
// stand-in, an observer of payment:created, a buyer with an order of price,
// and that order's PaymentIntent id.
func withIntent(t *testing.T, price float64) (stripe *standIn, h *harness, created *observer[events.PaymentCreated], buyer user, orderID, id string) {
	t.Helper()
	stripe = newStandIn()
	h = newHarness(t, stripe)
	created = observe[events.PaymentCreated](t, h)
	buyer = newUser(t)
	orderID = h.order(t, buyer, price)
	id, _ = h.intent(t, buyer, orderID)
	return stripe, h, created, buyer, orderID, id
}

func (h *harness) intent(t testing.TB, u user, orderID string) (id, secret string) {
	t.Helper()
	r := h.createIntent(t, u, orderID)
	require.Equal(t, http.StatusCreated, r.status, r.body)
	var body map[string]string
	require.NoError(t, json.Unmarshal([]byte(r.body), &body))
	require.Len(t, body, 2, "201 {id, clientSecret} and nothing else: %s", r.body)
	require.Regexp(t, `^pi_`, body["id"])
	require.NotEmpty(t, body["clientSecret"])
	return body["id"], body["clientSecret"]
}

// confirm is the read-back POST /api/payments/intents/:id/confirm.
func (h *harness) confirm(t testing.TB, u user, intentID string) response {
	t.Helper()
	return h.do(t, u, "POST", "/api/payments/intents/"+intentID+"/confirm", ``)
}

// deliver sends a webhook delivery with the given Stripe-Signature header.
func (h *harness) deliver(t testing.TB, payload []byte, signature string) response {
	t.Helper()
	req, err := http.NewRequest("POST", h.url+"/api/payments/webhook", strings.NewReader(string(payload)))
	if !assert.NoError(t, err) {
		return response{}
	}
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set("Stripe-Signature", signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if !assert.NoError(t, err) {
		return response{}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	assert.NoError(t, err)
	return response{status: resp.StatusCode, body: string(b)}
}

// stripeEvent is a webhook event of type typ carrying obj, as Stripe sends
// it, under an API version other than stripe-go's, as test payloads are.
func stripeEvent(t testing.TB, typ string, obj map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"id": "evt_" + oid(), "object": "event", "type": typ, "api_version": "2020-08-27",
		"created": time.Now().Unix(), "livemode": false, "data": map[string]any{"object": obj},
	})
	require.NoError(t, err)
	return b
}

// sign signs payload with secret at ts, as Stripe does.
func sign(payload []byte, secret string, ts time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: ts}).Header
}

// succeeded is a signed payment_intent.succeeded delivery of intent.
func succeeded(t testing.TB, intent map[string]any) (payload []byte, signature string) {
	payload = stripeEvent(t, "payment_intent.succeeded", intent)
	return payload, sign(payload, webhookSecret, time.Now())
}

// paidThroughIntent checks the order's one payment record is the intent's,
// charged, and that one payment:created announced it.
func paidThroughIntent(t *testing.T, h *harness, created *observer[events.PaymentCreated], orderID, intentID string, amount int64) storedPayment {
	t.Helper()
	rec := h.payment(t, orderID)
	assert.Equal(t, "charged", rec.Status)
	assert.Equal(t, intentID, rec.StripeID)
	assert.True(t, rec.Intent, "a refund names it as payment_intent")
	assert.Equal(t, amount, rec.Amount)
	assert.Nil(t, rec.Lease)
	h.waitPublished(t, orderID)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var mine []events.PaymentCreated
		for _, m := range created.all() {
			if m.OrderID == orderID {
				mine = append(mine, m)
			}
		}
		assert.Equal(c, []events.PaymentCreated{{ID: rec.ID.Hex(), OrderID: orderID, StripeID: intentID}}, mine)
	}, waitFor, tick)
	assert.Equal(t, 1, h.logs.Count(t, "order paid through a payment intent", map[string]any{"orderId": orderID}),
		"one write recorded the payment and its event")
	return rec
}

// Against stripe-mock: the intent asks for round(price*100) cents in usd,
// any payment method, with the order and its buyer in the metadata and a
// key derived from the order id; a second call returns the same intent.
func TestCreateIntentStripeMock(t *testing.T) {
	h := newHarness(t, stripeMock(t))
	buyer := newUser(t)
	orderID := h.order(t, buyer, 20.50)

	id, secret := h.intent(t, buyer, orderID)
	calls := h.stripe.to("/v1/payment_intents")
	require.Len(t, calls, 1)
	c := calls[0]
	assert.Equal(t, "POST", c.Method)
	assert.Equal(t, "2050", c.Form.Get("amount"), "20.50 is 2050 cents")
	assert.Equal(t, "usd", c.Form.Get("currency"))
	assert.Equal(t, "true", c.Form.Get("automatic_payment_methods[enabled]"))
	assert.Equal(t, orderID, c.Form.Get("metadata[order_id]"))
	assert.Equal(t, buyer.id, c.Form.Get("metadata[user_id]"))
	assert.Equal(t, "intent-"+orderID, c.IdempotencyKey)

	var doc bson.M
	require.NoError(t, h.db.Collection("orders").FindOne(context.Background(), bson.M{"_id": mustOID(t, orderID)}).Decode(&doc))
	assert.Equal(t, id, doc["paymentIntentId"], "the intent is kept on the order")

	again, againSecret := h.intent(t, buyer, strings.ToUpper(orderID))
	assert.Equal(t, id, again, "the same intent, not a second one")
	assert.NotEmpty(t, againSecret)
	assert.Len(t, h.stripe.to("/v1/payment_intents"), 1, "no second intent is created")
	assert.Len(t, h.stripe.to("/v1/payment_intents/"+id), 1, "the second call reads the intent back")
	assert.NotEmpty(t, secret)
	assert.Empty(t, h.payments(t, orderID), "an intent is no payment until it succeeds")

	// A newer version of the order (as a cancel brings) keeps the intent.
	h.cancel(t, orderID)
	require.NoError(t, h.db.Collection("orders").FindOne(context.Background(), bson.M{"_id": mustOID(t, orderID)}).Decode(&doc))
	assert.Equal(t, id, doc["paymentIntentId"])
}

// Every refusal of the intent and read-back routes, with its exact body; no
// refusal creates an intent.
func TestIntentRefusals(t *testing.T) {
	stripe := newStandIn()
	h := newHarness(t, stripe)
	buyer, stranger := newUser(t), newUser(t)

	open := h.order(t, buyer, 20.5)
	cancelled := h.order(t, buyer, 20.5)
	h.cancel(t, cancelled)
	paidOrder := h.order(t, buyer, 20.5)
	h.paid(t, buyer, paidOrder, "tok_visa")
	expiring := h.order(t, buyer, 20.5)
	h.clock.Advance(15 * time.Minute)
	fresh := h.order(t, buyer, 20.5)
	freshIntent, _ := h.intent(t, buyer, fresh)
	intentsBefore := len(h.stripe.to("/v1/payment_intents"))

	body := func(orderID string) string { return `{"orderId":"` + orderID + `"}` }
	notAuthorized := `{"errors":[{"message":"Not authorized"}]}`
	notFound := `{"errors":[{"message":"Not Found"}]}`
	tests := []struct {
		name   string
		who    user
		path   string
		body   string
		status int
		want   string
	}{
		{"anonymous with a bad body: auth first", anonymous, "/api/payments/intents", `{"orderId":1}`, 401, notAuthorized},
		{"empty body", buyer, "/api/payments/intents", ``, 400, `{"errors":[{"message":"OrderId must be provided","field":"orderId"}]}`},
		{"orderId not a string", buyer, "/api/payments/intents", `{"orderId":7}`, 400,
			`{"errors":[{"message":"OrderId must be provided","field":"orderId"}]}`},
		{"malformed json", buyer, "/api/payments/intents", `{"orderId":`, 400, `{"errors":[{"message":"Request body is not valid JSON"}]}`},
		{"unknown order", buyer, "/api/payments/intents", body(oid()), 404, notFound},
		{"someone else's order", stranger, "/api/payments/intents", body(open), 401, notAuthorized},
		{"someone else's cancelled order: 401 before 400", stranger, "/api/payments/intents", body(cancelled), 401, notAuthorized},
		{"cancelled order", buyer, "/api/payments/intents", body(cancelled), 400, `{"errors":[{"message":"Cannot pay for an cancelled order"}]}`},
		{"paid order", buyer, "/api/payments/intents", body(paidOrder), 400, `{"errors":[{"message":"Order has already been paid"}]}`},
		{"expired order", buyer, "/api/payments/intents", body(expiring), 400, `{"errors":[{"message":"Order has expired"}]}`},
		{"read-back, anonymous", anonymous, "/api/payments/intents/" + freshIntent + "/confirm", ``, 401, notAuthorized},
		{"read-back of someone else's intent", stranger, "/api/payments/intents/" + freshIntent + "/confirm", ``, 401, notAuthorized},
		{"read-back of an unknown intent", buyer, "/api/payments/intents/pi_nosuch/confirm", ``, 404, notFound},
		{"read-back of something not an intent id", buyer, "/api/payments/intents/ch_1/confirm", ``, 404, notFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(t, tt.who, "POST", tt.path, tt.body)
			assert.Equal(t, tt.status, r.status, r.body)
			assert.JSONEq(t, tt.want, r.body)
		})
	}
	assert.Len(t, h.stripe.to("/v1/payment_intents"), intentsBefore, "no refusal creates an intent")
	assert.Empty(t, h.payments(t, fresh), "no refusal pays")
}

// Without a signing secret there is no webhook: its path is an unknown
// route (404 with the contract's body), while the other routes serve.
func TestWebhookOffWithoutSecret(t *testing.T) {
	sessions, err := session.NewManager(session.Config{Key: []byte(jwtKey)})
	require.NoError(t, err)
	a, err := app.New(context.Background(), app.Deps{
		DB: testkit.MongoDB(t), Events: testkit.NATS(t).Connect(t), Sessions: sessions,
		Stripe: app.NewStripeClient(app.StripeConfig{Key: "sk_test_123", APIBase: "http://127.0.0.1:1"}),
	})
	require.NoError(t, err)
	h := &harness{url: serve(t, a)}
	payload := stripeEvent(t, "payment_intent.succeeded", map[string]any{"id": "pi_1", "object": "payment_intent"})
	r := h.deliver(t, payload, sign(payload, webhookSecret, time.Now()))
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.JSONEq(t, `{"errors":[{"message":"Not Found"}]}`, r.body)
	r = h.do(t, anonymous, "POST", "/api/payments/intents", `{}`)
	assert.Equal(t, http.StatusUnauthorized, r.status, "the intent route is there")
}

// The read-back: before the page confirmed, it answers the status and
// changes nothing; once Stripe says succeeded, it pays the order once, and
// every later call (or payment route) finds it paid.
func TestReadBackPaysOnce(t *testing.T) {
	stripe, h, created, buyer, orderID, id := withIntent(t, 12.34)

	r := h.confirm(t, buyer, id)
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.JSONEq(t, `{"id":"`+id+`","status":"requires_payment_method"}`, r.body)
	assert.Empty(t, h.payments(t, orderID))

	stripe.succeed(t, id)
	r = h.confirm(t, buyer, id)
	require.Equal(t, http.StatusOK, r.status, r.body)
	rec := paidThroughIntent(t, h, created, orderID, id, 1234)
	assert.JSONEq(t, `{"id":"`+id+`","status":"succeeded","paymentId":"`+rec.ID.Hex()+`"}`, r.body)

	again := h.confirm(t, buyer, id)
	assert.Equal(t, r, again, "a second read-back answers the same and records nothing")
	pay := h.pay(t, buyer, orderID, "tok_visa")
	assert.Equal(t, http.StatusBadRequest, pay.status)
	assert.JSONEq(t, `{"errors":[{"message":"Order has already been paid"}]}`, pay.body)
	intent := h.createIntent(t, buyer, orderID)
	assert.Equal(t, http.StatusBadRequest, intent.status)
	assert.JSONEq(t, `{"errors":[{"message":"Order has already been paid"}]}`, intent.body)
	assert.Empty(t, h.stripe.to("/v1/charges"))
	paidThroughIntent(t, h, created, orderID, id, 1234)
}

// An intent that succeeded while its webhook is still on the way: asking
// for the intent again records it and says the order is paid.
func TestCreateIntentFindsItSucceeded(t *testing.T) {
	stripe, h, created, buyer, orderID, id := withIntent(t, 10)
	stripe.succeed(t, id)

	r := h.createIntent(t, buyer, orderID)
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.JSONEq(t, `{"errors":[{"message":"Order has already been paid"}]}`, r.body)
	paidThroughIntent(t, h, created, orderID, id, 1000)
}

// The webhook: a signed payment_intent.succeeded pays the order once, also
// when delivered again; other events and bad signatures change nothing.
func TestWebhookPaysOnce(t *testing.T) {
	stripe, h, created, buyer, orderID, id := withIntent(t, 20.5)
	intent := stripe.succeed(t, id)
	payload, signature := succeeded(t, intent)

	refused := []struct {
		name      string
		payload   []byte
		signature string
	}{
		{"no signature", payload, ""},
		{"signed with another secret", payload, sign(payload, "whsec_other", time.Now())},
		{"body changed after signing", []byte(strings.Replace(string(payload), `"amount":2050`, `"amount":1`, 1)), signature},
		{"signed too long ago (a replay)", payload, sign(payload, webhookSecret, time.Now().Add(-10*time.Minute))},
		{"malformed header", payload, "garbage"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			r := h.deliver(t, tt.payload, tt.signature)
			assert.Equal(t, http.StatusBadRequest, r.status)
			assert.JSONEq(t, `{"errors":[{"message":"Invalid Stripe signature"}]}`, r.body)
		})
	}
	assert.Empty(t, h.payments(t, orderID), "a refused delivery changes nothing")

	other := stripeEvent(t, "payment_intent.created", intent)
	r := h.deliver(t, other, sign(other, webhookSecret, time.Now()))
	assert.Equal(t, http.StatusOK, r.status, r.body)
	charge := stripeEvent(t, "charge.succeeded", map[string]any{"id": "ch_1", "object": "charge"})
	r = h.deliver(t, charge, sign(charge, webhookSecret, time.Now()))
	assert.Equal(t, http.StatusOK, r.status, r.body)
	assert.Empty(t, h.payments(t, orderID), "other events are acknowledged and ignored")

	for range 2 {
		r := h.deliver(t, payload, signature)
		assert.Equal(t, http.StatusOK, r.status, r.body)
		assert.JSONEq(t, `{"received":true}`, r.body)
	}
	rec := paidThroughIntent(t, h, created, orderID, id, 2050)
	assert.Empty(t, h.stripe.to("/v1/charges"))

	// The read-back after the webhook finds it paid.
	r = h.confirm(t, buyer, id)
	assert.JSONEq(t, `{"id":"`+id+`","status":"succeeded","paymentId":"`+rec.ID.Hex()+`"}`, r.body)
	paidThroughIntent(t, h, created, orderID, id, 2050)
}

// The webhook and the read-back racing, several deliveries of each: one
// payment record, one payment:created.
func TestWebhookRacingReadBackPaysOnce(t *testing.T) {
	stripe := newStandIn()
	h := newHarness(t, stripe)
	created := observe[events.PaymentCreated](t, h)
	buyer := newUser(t)
	const orders, racers = 4, 6
	for range orders {
		orderID := h.order(t, buyer, 15)
		id, _ := h.intent(t, buyer, orderID)
		payload, signature := succeeded(t, stripe.succeed(t, id))

		results := race(racers, func(i int) response {
			if i%2 == 0 {
				return h.deliver(t, payload, signature)
			}
			return h.confirm(t, buyer, id)
		})
		for i, r := range results {
			assert.Equal(t, http.StatusOK, r.status, "racer %d: %s", i, r.body)
		}
		paidThroughIntent(t, h, created, orderID, id, 1500)
	}
	assert.Len(t, created.all(), orders)
}

// A cancel of an order its intent paid refunds the intent once; an intent
// that succeeds on an order cancelled before is recorded and refunded once,
// however often its webhook comes.
func TestCancelledOrderIntentRefundedOnce(t *testing.T) {
	stripe := newStandIn()
	h := newHarness(t, stripe)
	created := observe[events.PaymentCreated](t, h)
	buyer := newUser(t)
	refundsOf := func(intentID string) []stripeCall {
		var out []stripeCall
		for _, c := range h.stripe.to("/v1/refunds") {
			if c.Form.Get("payment_intent") == intentID {
				out = append(out, c)
			}
		}
		return out
	}

	t.Run("paid, then cancelled", func(t *testing.T) {
		orderID := h.order(t, buyer, 20.5)
		id, _ := h.intent(t, buyer, orderID)
		stripe.succeed(t, id)
		require.Equal(t, http.StatusOK, h.confirm(t, buyer, id).status)

		h.cancel(t, orderID)
		h.cancel(t, orderID)
		refunds := refundsOf(id)
		require.Len(t, refunds, 1, "one refund, of the intent")
		assert.Equal(t, "refund-"+orderID, refunds[0].IdempotencyKey)
		assert.Empty(t, refunds[0].Form.Get("charge"))
		rec := h.payment(t, orderID)
		require.NotNil(t, rec.Refund)
		assert.Regexp(t, `^re_standin_`, rec.Refund.ID)
	})

	t.Run("cancelled, then the intent succeeds", func(t *testing.T) {
		orderID := h.order(t, buyer, 20.5)
		id, _ := h.intent(t, buyer, orderID)
		h.cancel(t, orderID)
		assert.Empty(t, refundsOf(id), "nothing paid yet, nothing refunded")

		payload, signature := succeeded(t, stripe.succeed(t, id))
		for range 2 {
			r := h.deliver(t, payload, signature)
			assert.Equal(t, http.StatusOK, r.status, r.body)
		}
		r := h.confirm(t, buyer, id)
		assert.Equal(t, http.StatusOK, r.status, r.body)
		paidThroughIntent(t, h, created, orderID, id, 2050)
		require.Len(t, refundsOf(id), 1, "refunded once")
		require.NotNil(t, h.payment(t, orderID).Refund)
	})
}

// An order paid by card whose intent succeeds too (two tabs): the order
// stays paid by the card, and the intent is refunded, once.
func TestSurplusIntentRefunded(t *testing.T) {
	stripe, h, created, buyer, orderID, id := withIntent(t, 20.5)
	h.paid(t, buyer, orderID, "tok_visa")

	payload, signature := succeeded(t, stripe.succeed(t, id))
	for range 2 {
		r := h.deliver(t, payload, signature)
		assert.Equal(t, http.StatusOK, r.status, r.body)
	}
	r := h.confirm(t, buyer, id)
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.JSONEq(t, `{"errors":[{"message":"Order has already been paid"}]}`, r.body)

	refunds := h.stripe.to("/v1/refunds")
	require.NotEmpty(t, refunds)
	for _, c := range refunds {
		assert.Equal(t, id, c.Form.Get("payment_intent"))
		assert.Equal(t, "refund-"+id, c.IdempotencyKey)
	}
	_, made := stripe.counts()
	assert.Equal(t, 1, made, "one refund made; the repeats are answered from its idempotency record")
	rec := h.payment(t, orderID)
	assert.Regexp(t, `^ch_`, rec.StripeID, "the card's charge still pays the order")
	h.waitPublished(t, orderID)
	require.EventuallyWithT(t, func(c *assert.CollectT) { assert.Len(c, created.all(), 1) }, waitFor, tick)
}

// serve serves a's routes over HTTP until the test ends.
func serve(t *testing.T, a *app.App) string {
	t.Helper()
	ts := httptest.NewServer(a.Handler())
	t.Cleanup(ts.Close)
	return ts.URL
}

// A buyer whose card was declined on the token route pays through an
// intent: the same record, now charged by the intent.
func TestIntentPaysAfterDecline(t *testing.T) {
	stripe := newStandIn()
	h := newHarness(t, stripe)
	created := observe[events.PaymentCreated](t, h)
	buyer := newUser(t)
	orderID := h.order(t, buyer, 7)
	r := h.pay(t, buyer, orderID, declinedToken)
	require.Equal(t, http.StatusPaymentRequired, r.status, r.body)
	declined := h.payment(t, orderID)

	id, _ := h.intent(t, buyer, orderID)
	stripe.succeed(t, id)
	r = h.confirm(t, buyer, id)
	require.Equal(t, http.StatusOK, r.status, r.body)
	h.waitPublished(t, orderID)
	rec := h.payment(t, orderID)
	assert.Equal(t, declined.ID, rec.ID, "one record per order, through every attempt")
	assert.Equal(t, "charged", rec.Status)
	assert.Equal(t, id, rec.StripeID)
	assert.True(t, rec.Intent)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, []events.PaymentCreated{{ID: rec.ID.Hex(), OrderID: orderID, StripeID: id}}, created.all())
	}, waitFor, tick)
}
