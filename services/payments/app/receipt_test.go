package app_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// GET /api/payments/:orderId answers a charged order's payment to its buyer
// only, and nothing for an order without a charge.
func TestReceipt(t *testing.T) {
	h := newHarness(t, stripeMock(t))
	buyer, stranger := newUser(t), newUser(t)

	unpaid := h.order(t, buyer, 12.5)
	paid := h.order(t, buyer, 20.5)
	h.paid(t, buyer, paid, "tok_visa")
	refunded := h.order(t, buyer, 7)
	h.paid(t, buyer, refunded, "tok_visa")
	h.cancel(t, refunded) // a charged order that ends cancelled is refunded
	require.NotNil(t, h.payment(t, refunded).Refund, "the cancel refunded the charge")

	receipt := func(orderID string, amount string, extra string) string {
		p := h.payment(t, orderID)
		return fmt.Sprintf(`{"id":%q,"orderId":%q,"stripeId":%q,"amount":%s%s}`, p.ID.Hex(), orderID, p.StripeID, amount, extra)
	}
	tests := []struct {
		name   string
		who    user
		path   string
		status int
		want   string
	}{
		{"a paid order", buyer, paid, 200, receipt(paid, "20.5", "")},
		{"the id in capitals names the same order", buyer, strings.ToUpper(paid), 200, receipt(paid, "20.5", "")},
		{"a refunded order says so", buyer, refunded, 200, receipt(refunded, "7", `,"refunded":true`)},
		{"anonymous", anonymous, paid, 401, `{"errors":[{"message":"Not authorized"}]}`},
		{"someone else's order", stranger, paid, 401, `{"errors":[{"message":"Not authorized"}]}`},
		{"an unpaid order has no receipt", buyer, unpaid, 404, `{"errors":[{"message":"Not Found"}]}`},
		{"unknown order", buyer, oid(), 404, `{"errors":[{"message":"Not Found"}]}`},
		{"malformed id", buyer, "nope", 400, `{"errors":[{"message":"Id in the path must be 24 hex characters"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(t, tt.who, "GET", "/api/payments/"+tt.path, "")
			assert.Equal(t, tt.status, r.status, r.body)
			assert.JSONEq(t, tt.want, r.body)
		})
	}
}
