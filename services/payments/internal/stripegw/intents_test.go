package stripegw

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/ticketing/services/payments/internal/payment"
)

func TestCreateIntent(t *testing.T) {
	a := &answer{status: 200, body: `{"id":"pi_1","object":"payment_intent","amount":2050,"status":"requires_payment_method","client_secret":"pi_1_secret_x","metadata":{}}`}
	in, err := gateway(t, a).CreateIntent(context.Background(),
		payment.IntentRequest{IdempotencyKey: "intent-o1", OrderID: "o1", UserID: "u1", Amount: 2050})
	require.NoError(t, err)
	assert.Equal(t, payment.Intent{ID: "pi_1", ClientSecret: "pi_1_secret_x", Status: "requires_payment_method",
		Amount: 2050, OrderID: "o1", UserID: "u1"}, in)
	assert.Equal(t, "/v1/payment_intents", a.last.URL.Path)
	assert.Equal(t, "intent-o1", a.last.Header.Get("Idempotency-Key"))
	form, err := url.ParseQuery(a.form)
	require.NoError(t, err)
	assert.Equal(t, url.Values{
		"amount": {"2050"}, "currency": {"usd"}, "automatic_payment_methods[enabled]": {"true"},
		"metadata[order_id]": {"o1"}, "metadata[user_id]": {"u1"},
	}, form)

	a = &answer{status: 400, body: `{"error":{"type":"invalid_request_error","code":"amount_too_small","message":"Amount must be at least $0.50 usd"}}`}
	_, err = gateway(t, a).CreateIntent(context.Background(), payment.IntentRequest{IdempotencyKey: "k", Amount: 1})
	var declined *payment.DeclinedError
	require.ErrorAs(t, err, &declined)
	assert.Equal(t, "Amount must be at least $0.50 usd", declined.Message)
}

func TestGetIntent(t *testing.T) {
	a := &answer{status: 200, body: `{"id":"pi_1","object":"payment_intent","amount":1500,"status":"succeeded","client_secret":"s","metadata":{"order_id":"o1","user_id":"u1"}}`}
	in, err := gateway(t, a).GetIntent(context.Background(), "pi_1")
	require.NoError(t, err)
	assert.Equal(t, payment.Intent{ID: "pi_1", ClientSecret: "s", Status: "succeeded", Amount: 1500, OrderID: "o1", UserID: "u1"}, in)
	assert.True(t, in.Succeeded())
	assert.Equal(t, "GET", a.last.Method)
	assert.Equal(t, "/v1/payment_intents/pi_1", a.last.URL.Path)

	a = &answer{status: 404, body: `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such payment_intent: 'pi_x'"}}`}
	_, err = gateway(t, a).GetIntent(context.Background(), "pi_x")
	assert.ErrorIs(t, err, payment.ErrIntentNotFound)

	a = &answer{status: 500, body: `{"error":{"type":"api_error","message":"boom"}}`}
	_, err = gateway(t, a).GetIntent(context.Background(), "pi_x")
	require.Error(t, err)
	assert.NotErrorIs(t, err, payment.ErrIntentNotFound)
}

func TestRefundIntent(t *testing.T) {
	a := &answer{status: 200, body: `{"id":"re_2","object":"refund"}`}
	id, err := gateway(t, a).Refund(context.Background(), payment.RefundRequest{IdempotencyKey: "refund-o", PaymentIntentID: "pi_1"})
	require.NoError(t, err)
	assert.Equal(t, "re_2", id)
	assert.Equal(t, "payment_intent=pi_1", a.form)
}

func TestWebhookParse(t *testing.T) {
	const secret = "whsec_gw"
	hook, err := NewWebhook(secret)
	require.NoError(t, err)
	_, err = NewWebhook("")
	require.Error(t, err)

	event := func(typ, apiVersion string, obj any) []byte {
		b, err := json.Marshal(map[string]any{"id": "evt_1", "object": "event", "type": typ, "api_version": apiVersion,
			"data": map[string]any{"object": obj}})
		require.NoError(t, err)
		return b
	}
	sign := func(p []byte, secret string, at time.Time) string {
		return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: p, Secret: secret, Timestamp: at}).Header
	}
	pi := map[string]any{"id": "pi_1", "object": "payment_intent", "status": "succeeded", "amount": 2050,
		"metadata": map[string]string{"order_id": "o1", "user_id": "u1"}}
	succeeded := event("payment_intent.succeeded", "2019-01-01", pi)
	now := time.Now()

	tests := []struct {
		name      string
		payload   []byte
		signature string
		want      payment.StripeEvent
		err       error
	}{
		{"succeeded, under another API version", succeeded, sign(succeeded, secret, now),
			payment.StripeEvent{ID: "evt_1", Type: "payment_intent.succeeded",
				Intent: &payment.Intent{ID: "pi_1", Status: "succeeded", Amount: 2050, OrderID: "o1", UserID: "u1"}}, nil},
		{"an event of another object", event("charge.succeeded", "2019-01-01", map[string]any{"id": "ch_1", "object": "charge"}),
			"", payment.StripeEvent{ID: "evt_1", Type: "charge.succeeded"}, nil},
		{"no signature", succeeded, "", payment.StripeEvent{}, payment.ErrBadSignature},
		{"another secret", succeeded, sign(succeeded, "whsec_other", now), payment.StripeEvent{}, payment.ErrBadSignature},
		{"too old", succeeded, sign(succeeded, secret, now.Add(-6*time.Minute)), payment.StripeEvent{}, payment.ErrBadSignature},
		{"signed, but not JSON", []byte("nope"), sign([]byte("nope"), secret, now), payment.StripeEvent{}, payment.ErrBadEvent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig := tt.signature
			if sig == "" && tt.err == nil {
				sig = sign(tt.payload, secret, now)
			}
			got, err := hook.Parse(tt.payload, sig)
			if tt.err != nil {
				assert.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
