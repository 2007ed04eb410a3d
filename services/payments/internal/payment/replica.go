package payment

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ticketing/common/errs"
)

// AddOrder handles order:created: the replica keeps the newest version it
// has heard of; a repeat or an older event is acked without change, except
// that it fills in the details of an order whose cancellation came first.
// Such an order stays cancelled.
func (s *Service) AddOrder(ctx context.Context, o Order) error {
	applied, err := s.orders.ApplyCreated(ctx, o)
	if err != nil {
		return fmt.Errorf("add order %s: %w", o.ID, err)
	}
	// Repeats are otherwise silent; this line shows they were seen.
	s.log.Debug("order created handled", "orderId", o.ID, "version", o.Version, "applied", applied)
	return nil
}

// CancelOrder handles order:cancelled of version. A cancel is terminal: it
// applies over any older version, and before the order:created it keeps a
// cancelled order that the late order:created never revives. Then the order
// is refunded if it was charged. A cancel stored before (a redelivery)
// still checks the refund, since the process may have stopped between
// storing the cancel and refunding.
func (s *Service) CancelOrder(ctx context.Context, id string, version int64) error {
	applied, err := s.orders.ApplyCancelled(ctx, id, version)
	if err != nil {
		return fmt.Errorf("cancel order %s: %w", id, err)
	}
	if !applied {
		// The replica holds this version or a newer one. Only a cancel
		// stored already leaves a refund to check.
		o, err := s.orders.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("cancel order %s: %w", id, err)
		}
		if !o.Cancelled() {
			s.log.Debug("order cancel handled", "orderId", id, "version", version, "applied", false)
			return nil
		}
	}
	if err := s.RefundIfCharged(ctx, id); err != nil {
		return fmt.Errorf("cancel order %s: %w", id, err)
	}
	// Redeliveries are otherwise silent; this line shows they were seen.
	s.log.Debug("order cancel handled", "orderId", id, "version", version, "applied", applied)
	return nil
}

// RefundIfCharged refunds a cancelled order's charge, once. While a charge or
// refund of the order is under way elsewhere it returns ErrChargeInFlight or
// ErrRefundInFlight, so the caller comes back once that is settled.
func (s *Service) RefundIfCharged(ctx context.Context, orderID string) error {
	orderID = strings.ToLower(orderID) // records name orders as ObjectId.Hex writes them
	for attempt := 1; ; attempt++ {
		p, err := s.paymentOf(ctx, orderID)
		if err != nil || p == nil {
			return err
		}
		now := s.now()
		switch {
		case p.Status == StatusFailed:
			return nil
		case p.Status == StatusPending && p.Lease.Live(now):
			return ErrChargeInFlight
		case p.Status == StatusPending:
			// A charge whose outcome nobody knows: the request that made it
			// stopped, or Stripe did not answer. Repeating it under its key
			// makes Stripe tell (or, if it never arrived, make) the charge,
			// which is then refunded: nobody pays for a cancelled order.
			next := p.TakeOver(s.newLease())
			if err := s.payments.Update(ctx, *p, next); err != nil {
				if errors.Is(err, errs.ErrConflict) && attempt < maxAttempts {
					continue
				}
				return err
			}
			if _, err := s.settle(ctx, next); err != nil {
				var e *errs.Error
				if errors.As(err, &e) && e.Kind == errs.KindPaymentFailed {
					return nil // nothing was charged
				}
				return err
			}
			continue
		case p.Refund != nil:
			return nil
		case p.Lease.Live(now):
			return ErrRefundInFlight
		}
		err = s.refund(ctx, *p)
		if errors.Is(err, errs.ErrConflict) && attempt < maxAttempts {
			continue
		}
		return err
	}
}

// refund claims a charged payment, refunds it through Stripe and records the
// refund. Only the lease holder calls Stripe, so concurrent deliveries of one
// cancel make one refund request; the idempotency key covers a holder that
// stopped half-way and is taken over.
func (s *Service) refund(ctx context.Context, p Payment) error {
	leased := p.LeasedForRefund(s.newLease())
	if err := s.payments.Update(ctx, p, leased); err != nil {
		return err
	}
	ctx = context.WithoutCancel(ctx)
	sctx, cancel := context.WithTimeout(ctx, s.stripeTimeout)
	refundID, err := s.gw.Refund(sctx, p.refundRequest())
	cancel()
	log := s.log.With("orderId", p.OrderID, "paymentId", p.ID, "stripeId", p.StripeID)
	if errors.Is(err, ErrAlreadyRefunded) {
		log.Warn("stripe says the charge was refunded already; recording it as refunded")
		refundID, err = "", nil
	}
	if err != nil {
		if werr := s.write(ctx, leased, leased.Released()); werr != nil {
			log.Warn("refund lease not released; it lapses on its own", "err", werr)
		}
		return fmt.Errorf("refund order %s: %w", p.OrderID, err)
	}
	if err := s.write(ctx, leased, leased.Refunded(refundID, s.now())); err != nil {
		return fmt.Errorf("refunded order %s (refund %s) but could not record it: %w", p.OrderID, refundID, err)
	}
	log.Info("cancelled order refunded", "refundId", refundID)
	return nil
}
