package payment

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/events"
)

func TestAmountCents(t *testing.T) {
	tests := []struct {
		price float64
		want  int64
	}{
		{20.50, 2050},
		{0.29, 29}, // 0.29*100 is 28.999999999999996 in floating point
		{19.99, 1999},
		{1.005, 100}, // 1.005 is 1.00499999999999989... as a float64: rounds down
		{1_000_000, 100_000_000},
		{10, 1000},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, AmountCents(tt.price), "price %v", tt.price)
	}
}

func TestChargeKey(t *testing.T) {
	p := Payment{OrderID: "5f0000000000000000000001"}
	assert.Equal(t, "5f0000000000000000000001", p.ChargeKey(), "the first attempt's key is the order id")
	p.Attempt = 2
	assert.Equal(t, "5f0000000000000000000001-2", p.ChargeKey(), "an attempt after a decline needs a key of its own")
	assert.Equal(t, "refund-5f0000000000000000000001", RefundKey(p.OrderID))
}

func TestCheckPayableRefusesInContractOrder(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const owner, other = "owner", "other"
	open := Order{ID: "o", UserID: owner, Status: events.OrderStatusCreated, ExpiresAt: now.Add(time.Minute)}
	cancelled := open
	cancelled.Status = events.OrderStatusCancelled
	expired := open
	expired.ExpiresAt = now
	live := &Lease{Owner: "x", Until: now.Add(time.Second)}
	lapsed := &Lease{Owner: "x", Until: now}
	charged := &Payment{Status: StatusCharged}
	inFlight := &Payment{Status: StatusPending, Lease: live}

	tests := []struct {
		name  string
		order Order
		pay   *Payment
		user  string
		want  error
	}{
		{"payable", open, nil, owner, nil},
		{"not the buyer's, before everything else", cancelled, charged, other, errs.ErrNotAuthorized},
		{"cancelled before already paid", cancelled, charged, owner, ErrOrderCancelled},
		{"already paid before expired", expired, charged, owner, ErrAlreadyPaid},
		{"an attempt in flight counts as paid", open, inFlight, owner, ErrAlreadyPaid},
		{"expired at expiresAt exactly", expired, nil, owner, ErrOrderExpired},
		{"a failed attempt may be retried", open, &Payment{Status: StatusFailed}, owner, nil},
		{"a pending attempt whose lease lapsed may be taken over", open, &Payment{Status: StatusPending, Lease: lapsed}, owner, nil},
		{"a pending attempt without lease may be taken over", open, &Payment{Status: StatusPending}, owner, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPayable(tt.order, tt.pay, tt.user, now)
			if tt.want == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

func TestTransitions(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	lease := Lease{Owner: "me", Until: now.Add(time.Minute)}
	o := Order{ID: "5f0000000000000000000001", Price: 20.5}
	p := NewAttempt(o, "tok_visa", lease)
	require.Equal(t, Payment{
		ID: o.ID, OrderID: o.ID, Status: StatusPending, Amount: 2050, Token: "tok_visa", Lease: &lease,
	}, p)

	failed := p.Failed()
	assert.Equal(t, int64(1), failed.Version)
	assert.Equal(t, StatusFailed, failed.Status)
	assert.Empty(t, failed.Token, "the token is not kept once the attempt is settled")
	assert.Nil(t, failed.Lease)

	retry := failed.Retry(o, "tok_mastercard", lease)
	assert.Equal(t, int64(2), retry.Version)
	assert.Equal(t, int64(1), retry.Attempt)
	assert.Equal(t, o.ID+"-1", retry.ChargeKey())

	released := retry.Released()
	assert.Equal(t, StatusPending, released.Status)
	assert.Equal(t, "tok_mastercard", released.Token, "a released attempt keeps what a takeover must repeat")
	taken := released.TakeOver(lease)
	assert.Equal(t, retry.ChargeKey(), taken.ChargeKey(), "a takeover repeats the same key")

	charged := taken.Charged("ch_1")
	assert.Equal(t, events.PaymentCreated{ID: p.ID, OrderID: o.ID, StripeID: "ch_1"}, charged.CreatedEvent())
	assert.Empty(t, charged.Token)
	refunded := charged.LeasedForRefund(lease).Refunded("re_1", now)
	assert.Equal(t, &Refund{ID: "re_1", At: now}, refunded.Refund)
	assert.Nil(t, refunded.Lease)
	assert.Equal(t, charged.Version+2, refunded.Version)
}
