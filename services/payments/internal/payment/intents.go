package payment

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/ticketing/common/errs"
)

// ErrPaymentBusy: a card charge of the order is under way, or its outcome
// is unknown, so a succeeded PaymentIntent cannot be recorded yet. Whoever
// asked comes back (Stripe redelivers a webhook that failed).
var ErrPaymentBusy = errs.Wrap(errs.ErrConflict, ErrChargeInFlight)

// CreateIntent is POST /api/payments/intents: it refuses as Pay does (404,
// 401, cancelled, already paid, expired), then returns the order's
// PaymentIntent, creating it the first time. The intent's id is kept on the
// order so every later call returns the same one.
func (s *Service) CreateIntent(ctx context.Context, userID, orderID string) (Intent, error) {
	o, err := s.orders.Get(ctx, orderID)
	if err != nil {
		return Intent{}, fmt.Errorf("intent for order %s: %w", orderID, err)
	}
	if o.UserID == "" {
		// Only its cancellation has been heard; see claim.
		return Intent{}, fmt.Errorf("intent for order %s: %w", orderID, errs.ErrNotFound)
	}
	cur, err := s.paymentOf(ctx, o.ID)
	if err != nil {
		return Intent{}, fmt.Errorf("intent for order %s: %w", orderID, err)
	}
	if err := CheckPayable(o, cur, userID, s.now()); err != nil {
		return Intent{}, fmt.Errorf("intent for order %s: %w", orderID, err)
	}
	if o.IntentID != "" {
		return s.existingIntent(ctx, o.IntentID)
	}

	sctx, cancel := context.WithTimeout(ctx, s.stripeTimeout)
	in, err := s.gw.CreateIntent(sctx, IntentRequest{
		IdempotencyKey: IntentKey(o.ID), OrderID: o.ID, UserID: o.UserID, Amount: AmountCents(o.Price),
	})
	cancel()
	if err != nil {
		return Intent{}, fmt.Errorf("intent for order %s: %w", orderID, stripeFailure(err))
	}
	stored, err := s.orders.SetIntent(ctx, o.ID, in.ID)
	if err != nil {
		return Intent{}, fmt.Errorf("intent for order %s: %w", orderID, err)
	}
	if stored != in.ID {
		// Another request stored its intent first. Stripe answers a repeated
		// key with the same intent, so this happens only where it does not
		// (stripe-mock); the one stored is the order's intent.
		return s.existingIntent(ctx, stored)
	}
	s.log.Info("payment intent created", "orderId", o.ID, "intentId", in.ID, "amount", in.Amount)
	return in, nil
}

// existingIntent reads the order's intent back from Stripe, which holds its
// client secret. One that succeeded already (its webhook is still on the
// way) is recorded now, and the order is paid.
func (s *Service) existingIntent(ctx context.Context, id string) (Intent, error) {
	in, err := s.getIntent(ctx, id)
	if err != nil {
		return Intent{}, err
	}
	if in.Succeeded() {
		if _, err := s.CompleteIntent(ctx, in); err != nil && !errors.Is(err, ErrAlreadyPaid) {
			return Intent{}, err
		}
		return Intent{}, ErrAlreadyPaid
	}
	return in, nil
}

// ConfirmIntent is the read-back after Stripe.js confirmed a payment on the
// page: it asks Stripe how the intent stands and, if it succeeded, pays the
// order as the webhook would. Whichever of the two comes first records the
// payment; the other finds it recorded.
func (s *Service) ConfirmIntent(ctx context.Context, userID, intentID string) (Intent, *Payment, error) {
	in, err := s.getIntent(ctx, intentID)
	if err != nil {
		return Intent{}, nil, err
	}
	if !primitive.IsValidObjectID(in.OrderID) {
		// Not an intent this service made: nobody's order.
		return Intent{}, nil, fmt.Errorf("confirm intent %s: %w", intentID, errs.ErrNotFound)
	}
	o, err := s.orders.Get(ctx, in.OrderID)
	if err != nil {
		return Intent{}, nil, fmt.Errorf("confirm intent %s: %w", intentID, err)
	}
	switch {
	case o.UserID == "":
		return Intent{}, nil, fmt.Errorf("confirm intent %s: %w", intentID, errs.ErrNotFound)
	case o.UserID != userID:
		return Intent{}, nil, fmt.Errorf("confirm intent %s: %w", intentID, errs.ErrNotAuthorized)
	case !in.Succeeded():
		return in, nil, nil
	}
	p, err := s.CompleteIntent(ctx, in)
	if err != nil {
		return Intent{}, nil, fmt.Errorf("confirm intent %s: %w", intentID, err)
	}
	return in, &p, nil
}

// HandleStripeEvent applies a verified webhook delivery. Only
// payment_intent.succeeded of an intent this service made changes
// anything; every other event is acknowledged and ignored, and so is a
// repeat, since paying is idempotent.
func (s *Service) HandleStripeEvent(ctx context.Context, ev StripeEvent) error {
	log := s.log.With("eventId", ev.ID, "type", ev.Type)
	if ev.Type != EventIntentSucceeded || ev.Intent == nil {
		log.Debug("stripe event ignored")
		return nil
	}
	in := *ev.Intent
	if !primitive.IsValidObjectID(in.OrderID) || !in.Succeeded() {
		log.Warn("stripe event ignored: not a succeeded intent of an order", "intentId", in.ID, "status", in.Status)
		return nil
	}
	_, err := s.CompleteIntent(ctx, in)
	if errors.Is(err, ErrAlreadyPaid) {
		return nil // paid by other means; the surplus intent was refunded
	}
	if err != nil {
		return fmt.Errorf("stripe event %s: %w", ev.ID, err)
	}
	log.Debug("stripe event handled", "orderId", in.OrderID, "intentId", in.ID)
	return nil
}

// CompleteIntent records that a succeeded intent paid its order, once: one
// payment record per order (the unique index) carries the intent and its
// payment:created in one write, so the webhook and the read-back racing
// each other, or a webhook delivered twice, record and announce it once.
// An order paid already by other means gets this intent refunded and
// ErrAlreadyPaid. An order cancelled meanwhile is refunded, as a charge
// would be.
func (s *Service) CompleteIntent(ctx context.Context, in Intent) (Payment, error) {
	if !in.Succeeded() {
		return Payment{}, fmt.Errorf("complete intent %s: status is %q", in.ID, in.Status)
	}
	orderID := strings.ToLower(in.OrderID)
	// Money has moved: the caller hanging up must not stop the recording.
	ctx = context.WithoutCancel(ctx)
	var p Payment
	var paidAlready *Payment // by another intent
	busy := false            // a card charge is under way, or its outcome unknown
	err := errs.RetryOnConflict(maxAttempts, func() error {
		// After a conflict or a lost insert race the other path wrote first:
		// read what it wrote.
		cur, err := s.paymentOf(ctx, orderID)
		if err != nil {
			return err
		}
		switch {
		case cur == nil:
			p = NewIntentPayment(orderID, in)
			return s.insert(ctx, p)
		case cur.Status == StatusCharged && cur.StripeID == in.ID:
			p = *cur // recorded by whichever came first
			return nil
		case cur.Status == StatusCharged:
			paidAlready = cur
			return nil
		case cur.Status == StatusFailed:
			p = cur.PaidByIntent(in)
			err = s.write(ctx, *cur, p, p.CreatedEvent())
			if !errs.Refused(err) { // as in insert
				s.notify(p.ID)
			}
			return err
		default: // pending
			busy = true
			return nil
		}
	}, ErrPaymentExists)
	if err != nil {
		return Payment{}, fmt.Errorf("complete intent %s: %w", in.ID, err)
	}
	switch {
	case busy:
		// ErrPaymentBusy is a conflict for the caller (come back later),
		// not one to retry here at once.
		return Payment{}, fmt.Errorf("complete intent %s of order %s: %w", in.ID, orderID, ErrPaymentBusy)
	case paidAlready != nil:
		return Payment{}, s.refundSurplus(ctx, *paidAlready, in)
	}
	// A cancel may have landed before or meanwhile. The cancel listener
	// writes the cancel and then reads the payment record; here the record
	// was written and now the order is read: at least one of the two sees
	// the other. A repeat (a webhook redelivery) checks again, so a refund
	// that failed is tried again.
	o, err := s.orders.Get(ctx, orderID)
	if err == nil && o.Cancelled() {
		err = s.RefundIfCharged(ctx, orderID)
		if errors.Is(err, ErrRefundInFlight) {
			err = nil // the cancel listener is refunding it
		}
	}
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return p, fmt.Errorf("complete intent %s: %w", in.ID, err)
	}
	return p, nil
}

// insert stores a new intent payment with its payment:created.
func (s *Service) insert(ctx context.Context, p Payment) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	err := s.payments.Insert(ctx, p, p.CreatedEvent())
	// Also on an error that may hide a stored write: the relay would
	// otherwise find its payment:created only at its next sweep.
	if !errs.Refused(err, ErrPaymentExists) {
		s.notify(p.ID)
	}
	if err != nil {
		return err
	}
	s.log.Info("order paid through a payment intent", "orderId", p.OrderID, "paymentId", p.ID,
		"stripeId", p.StripeID, "amount", p.Amount)
	return nil
}

// refundSurplus refunds an intent that paid an order paid already (a card
// charge, or another intent), so nobody pays twice.
func (s *Service) refundSurplus(ctx context.Context, paid Payment, in Intent) error {
	log := s.log.With("orderId", paid.OrderID, "paidBy", paid.StripeID, "intentId", in.ID)
	sctx, cancel := context.WithTimeout(ctx, s.stripeTimeout)
	refundID, err := s.gw.Refund(sctx, RefundRequest{IdempotencyKey: IntentRefundKey(in.ID), PaymentIntentID: in.ID})
	cancel()
	if err != nil && !errors.Is(err, ErrAlreadyRefunded) {
		return fmt.Errorf("refund surplus intent %s of order %s: %w", in.ID, paid.OrderID, err)
	}
	log.Warn("order paid twice; the surplus payment intent is refunded", "refundId", refundID)
	return ErrAlreadyPaid
}

func (s *Service) getIntent(ctx context.Context, id string) (Intent, error) {
	sctx, cancel := context.WithTimeout(ctx, s.stripeTimeout)
	defer cancel()
	in, err := s.gw.GetIntent(sctx, id)
	if err != nil {
		if errors.Is(err, ErrIntentNotFound) {
			return Intent{}, fmt.Errorf("read intent %s: %w", id, err)
		}
		return Intent{}, fmt.Errorf("read intent %s: %w", id, stripeFailure(err))
	}
	return in, nil
}

// stripeFailure sorts a failed Stripe call for the buyer: a refusal is a
// 402 with Stripe's message, anything else a 503.
func stripeFailure(err error) error {
	var declined *DeclinedError
	if errors.As(err, &declined) {
		return errs.Wrap(errs.New(errs.KindPaymentFailed, declined.Message), err)
	}
	return errs.Wrap(ErrStripeUnavailable, err)
}
