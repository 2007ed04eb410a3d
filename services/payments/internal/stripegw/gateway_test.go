package stripegw

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"

	"github.com/ticketing/services/payments/internal/payment"
)

// answer serves one fixed Stripe answer and keeps the last request.
type answer struct {
	status int
	body   string
	last   *http.Request
	form   string
}

func (a *answer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	a.last, a.form = r, string(b)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
}

func gateway(t *testing.T, a *answer) *Gateway {
	t.Helper()
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	g, err := NewGateway(NewClient(ClientConfig{Key: "sk_test_gw", APIBase: srv.URL}))
	require.NoError(t, err)
	return g
}

func TestChargeSortsStripesAnswers(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		id       string
		declined string // Stripe's message when the charge is refused for good
	}{
		{"charged", 200, `{"id":"ch_1","object":"charge"}`, "ch_1", ""},
		{"declined", 402, `{"error":{"type":"card_error","code":"card_declined","message":"Your card was declined."}}`, "",
			"Your card was declined."},
		{"unknown token", 400, `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such token: 'tok_x'"}}`, "",
			"No such token: 'tok_x'"},
		{"declined without a message", 402, `{"error":{"type":"card_error"}}`, "", "Your card was declined."},
		{"our key is wrong: unknown outcome, not the buyer's fault", 401,
			`{"error":{"type":"invalid_request_error","message":"Invalid API Key provided"}}`, "", ""},
		{"stripe failed: unknown outcome", 500, `{"error":{"type":"api_error","message":"boom"}}`, "", ""},
		{"idempotency misuse: unknown outcome", 400, `{"error":{"type":"idempotency_error","message":"Keys for idempotent requests..."}}`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &answer{status: tt.status, body: tt.body}
			id, err := gateway(t, a).Charge(context.Background(),
				payment.ChargeRequest{IdempotencyKey: "order-1", Token: "tok_visa", Amount: 2050})
			require.NotNil(t, a.last)
			assert.Equal(t, "order-1", a.last.Header.Get("Idempotency-Key"))
			assert.Equal(t, "Bearer sk_test_gw", a.last.Header.Get("Authorization"))
			assert.Equal(t, "amount=2050&currency=usd&source=tok_visa", a.form)
			var declined *payment.DeclinedError
			switch {
			case tt.id != "":
				require.NoError(t, err)
				assert.Equal(t, tt.id, id)
			case tt.declined != "":
				require.ErrorAs(t, err, &declined)
				assert.Equal(t, tt.declined, declined.Message)
			default:
				require.Error(t, err)
				assert.False(t, errors.As(err, &declined), "an unknown outcome is not a decline: %v", err)
			}
		})
	}
	assert.Empty(t, stripe.Key, "the client's key is its own, not stripe-go's global")
}

func TestRefund(t *testing.T) {
	a := &answer{status: 200, body: `{"id":"re_1","object":"refund"}`}
	id, err := gateway(t, a).Refund(context.Background(), payment.RefundRequest{IdempotencyKey: "refund-o", ChargeID: "ch_1"})
	require.NoError(t, err)
	assert.Equal(t, "re_1", id)
	assert.Equal(t, "refund-o", a.last.Header.Get("Idempotency-Key"))
	assert.Equal(t, "charge=ch_1", a.form)

	a = &answer{status: 400, body: `{"error":{"type":"invalid_request_error","code":"charge_already_refunded","message":"Charge ch_1 has already been refunded."}}`}
	_, err = gateway(t, a).Refund(context.Background(), payment.RefundRequest{IdempotencyKey: "refund-o", ChargeID: "ch_1"})
	assert.ErrorIs(t, err, payment.ErrAlreadyRefunded)
}
