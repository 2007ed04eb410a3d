package payment

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ticketing/common/events"
)

func TestIntentPayments(t *testing.T) {
	const orderID = "5f0000000000000000000001"
	in := Intent{ID: "pi_1", Status: IntentSucceeded, Amount: 2050, OrderID: orderID}
	assert.Equal(t, "intent-"+orderID, IntentKey(orderID), "apart from the charge's key, the order id")
	assert.Equal(t, "refund-pi_1", IntentRefundKey(in.ID))

	p := NewIntentPayment(orderID, in)
	assert.Equal(t, Payment{ID: orderID, OrderID: orderID, Status: StatusCharged, Amount: 2050,
		StripeID: "pi_1", Intent: true}, p, "born charged: written only once the money moved")
	assert.Equal(t, events.PaymentCreated{ID: p.ID, OrderID: orderID, StripeID: "pi_1"}, p.CreatedEvent(),
		"stripeId is the PaymentIntent")
	assert.Equal(t, RefundRequest{IdempotencyKey: "refund-" + orderID, PaymentIntentID: "pi_1"}, p.refundRequest())

	failed := Payment{ID: p.ID, OrderID: orderID, Status: StatusFailed, Version: 3, Attempt: 1, Amount: 2050}
	paid := failed.PaidByIntent(in)
	assert.Equal(t, Payment{ID: p.ID, OrderID: orderID, Status: StatusCharged, Version: 4, Attempt: 1, Amount: 2050,
		StripeID: "pi_1", Intent: true}, paid)

	charge := Payment{OrderID: orderID, Status: StatusCharged, StripeID: "ch_1"}
	assert.Equal(t, RefundRequest{IdempotencyKey: "refund-" + orderID, ChargeID: "ch_1"}, charge.refundRequest())
}
