package payment

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/events"
)

// Status is where a payment stands with Stripe.
type Status string

const (
	// StatusPending: an attempt has been claimed. While its lease is live
	// its holder is talking to Stripe; once the lease has lapsed, nobody
	// knows whether Stripe charged, and the next one to claim it repeats the
	// very same request, which Stripe answers from its idempotency record.
	StatusPending Status = "pending"
	// StatusFailed: Stripe refused the last attempt (nothing was charged);
	// the buyer may try again.
	StatusFailed Status = "failed"
	// StatusCharged: the order is paid; StripeID is the charge or the
	// PaymentIntent.
	StatusCharged Status = "charged"
)

// Lease says who is talking to Stripe about a payment and until when. It
// keeps two requests (or two replicas) from charging or refunding one order
// at once; one that outlives its holder (a crash) lapses and may be taken over.
type Lease struct {
	Owner string
	Until time.Time
}

// Live reports whether the lease still holds at now.
func (l *Lease) Live(now time.Time) bool { return l != nil && now.Before(l.Until) }

// Refund records the refund of a charged order that ended cancelled. ID is
// empty when Stripe said the charge was refunded already.
type Refund struct {
	ID string
	At time.Time
}

// Payment is the one record per order of its charge. The unique index on
// OrderID is what lets only one of many racing buyers' requests claim it.
type Payment struct {
	ID      string
	OrderID string
	Version int64
	Status  Status
	// Attempt numbers the attempts after declines; it picks the
	// idempotency key (see ChargeKey).
	Attempt int64
	// Amount (cents) and Token are the request of the current attempt, kept
	// while it is pending so a takeover can repeat it exactly.
	Amount   int64
	Token    string
	StripeID string
	// Intent says StripeID is a PaymentIntent (pi_…), not a charge (ch_…);
	// a refund names it as payment_intent.
	Intent bool
	Refund *Refund
	Lease  *Lease
}

// Errors the payment route answers with (CONTRACT.md §2, payments).
var (
	ErrOrderCancelled = errs.BadRequest("Cannot pay for an cancelled order")
	ErrAlreadyPaid    = errs.BadRequest("Order has already been paid")
	ErrOrderExpired   = errs.BadRequest("Order has expired")
	// ErrStripeUnavailable: Stripe did not give a clear answer. The attempt
	// stays pending without a lease, so the next try repeats it under the
	// same idempotency key and cannot charge twice.
	ErrStripeUnavailable = errs.New(errs.KindUnavailable, "The payment provider did not answer, try again")
)

// Plain errors for the listener: the message comes back later.
var (
	// ErrChargeInFlight: a charge of the order is under way elsewhere; its
	// outcome decides whether a refund is due.
	ErrChargeInFlight = errors.New("a charge of this order is in flight")
	// ErrRefundInFlight: a refund of the order is under way elsewhere.
	ErrRefundInFlight = errors.New("a refund of this order is in flight")
	// ErrPaymentExists is the store's answer to a second payment record for
	// one order.
	ErrPaymentExists = errors.New("the order has a payment record already")
)

// AmountCents is the charge for a price in dollars: round(price*100).
func AmountCents(price float64) int64 { return int64(math.Round(price * 100)) }

// ChargeKey is the charge's idempotency key: the order id for the first
// attempt, as the contract says. Stripe stores the outcome of a key, a
// decline included, and refuses the key with other parameters, so after a
// decline the next attempt (another card) needs a key of its own.
func (p Payment) ChargeKey() string {
	if p.Attempt == 0 {
		return p.OrderID
	}
	return p.OrderID + "-" + strconv.FormatInt(p.Attempt, 10)
}

// RefundKey is the refund's idempotency key; one order is refunded at most once.
func RefundKey(orderID string) string { return "refund-" + orderID }

// refundRequest refunds the whole of p's charge or PaymentIntent, once.
func (p Payment) refundRequest() RefundRequest {
	req := RefundRequest{IdempotencyKey: RefundKey(p.OrderID)}
	if p.Intent {
		req.PaymentIntentID = p.StripeID
	} else {
		req.ChargeID = p.StripeID
	}
	return req
}

// blocks reports whether p stops another payment of its order: it is paid,
// or an attempt is under way.
func (p *Payment) blocks(now time.Time) bool {
	return p != nil && (p.Status == StatusCharged || p.Status == StatusPending && p.Lease.Live(now))
}

// CheckPayable applies the route's refusals after 404, in the contract's
// order: not the buyer's, cancelled, already paid (or being paid), expired.
// p is the order's payment record, nil if it has none.
func CheckPayable(o Order, p *Payment, userID string, now time.Time) error {
	switch {
	case o.UserID != userID:
		return errs.ErrNotAuthorized
	case o.Cancelled():
		return ErrOrderCancelled
	case p.blocks(now):
		return ErrAlreadyPaid
	case !now.Before(o.ExpiresAt):
		return ErrOrderExpired
	}
	return nil
}

// NewAttempt is the first payment record of an order, claimed under lease.
// An order has at most one payment record, so the record is named by its
// order (PaymentID): finding an order's payment is a read by _id.
func NewAttempt(o Order, token string, lease Lease) Payment {
	return Payment{
		ID: PaymentID(o.ID), OrderID: o.ID, Status: StatusPending,
		Amount: AmountCents(o.Price), Token: token, Lease: &lease,
	}
}

// PaymentID is the id of the payment record of order orderID: the order's
// own id, as ObjectId.Hex writes it. One record per order makes the order
// id a natural key, and a read by _id is indexed on every store (the local
// one filters any other field by reading the whole collection).
func PaymentID(orderID string) string { return strings.ToLower(orderID) }

// The transitions below each return the next version of the record.

// Retry starts a new attempt after a failed one, with a new idempotency key.
func (p Payment) Retry(o Order, token string, lease Lease) Payment {
	p.Attempt++
	p.Status, p.Amount, p.Token, p.Lease = StatusPending, AmountCents(o.Price), token, &lease
	return p.bump()
}

// TakeOver claims a pending attempt whose lease lapsed, to repeat it.
func (p Payment) TakeOver(lease Lease) Payment {
	p.Lease = &lease
	return p.bump()
}

// Charged records Stripe's charge.
func (p Payment) Charged(stripeID string) Payment {
	p.Status, p.StripeID, p.Token, p.Lease = StatusCharged, stripeID, "", nil
	return p.bump()
}

// Failed records that the attempt charged nothing: Stripe refused it, or it
// was dropped before reaching Stripe.
func (p Payment) Failed() Payment {
	p.Status, p.Token, p.Lease = StatusFailed, "", nil
	return p.bump()
}

// Released gives up the lease and keeps everything else, so whoever comes
// next repeats the attempt (pending) or the refund (charged).
func (p Payment) Released() Payment {
	p.Lease = nil
	return p.bump()
}

// LeasedForRefund claims a charged payment to refund it.
func (p Payment) LeasedForRefund(lease Lease) Payment {
	p.Lease = &lease
	return p.bump()
}

// Refunded records Stripe's refund.
func (p Payment) Refunded(refundID string, at time.Time) Payment {
	p.Refund, p.Lease = &Refund{ID: refundID, At: at}, nil
	return p.bump()
}

func (p Payment) bump() Payment {
	p.Version++
	return p
}

// CreatedEvent is the payment:created event of a charged payment.
func (p Payment) CreatedEvent() events.PaymentCreated {
	return events.PaymentCreated{ID: p.ID, OrderID: p.OrderID, StripeID: p.StripeID}
}
