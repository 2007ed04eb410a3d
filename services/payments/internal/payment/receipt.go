package payment

import (
	"context"
	"fmt"

	"github.com/ticketing/common/errs"
)

// Receipt is GET /api/payments/:orderId: the caller's order's payment once
// Stripe has charged it, for the order's receipt. An order without a charge
// (none yet, declined, still in flight) has no receipt: 404, as for an
// unknown order; someone else's order is a 401, as for paying it.
func (s *Service) Receipt(ctx context.Context, userID, orderID string) (Payment, error) {
	o, err := s.orders.Get(ctx, orderID)
	if err != nil {
		return Payment{}, fmt.Errorf("receipt for order %s: %w", orderID, err)
	}
	switch {
	case o.UserID == "":
		// Only its cancellation has been heard; see claim.
		return Payment{}, fmt.Errorf("receipt for order %s: %w", orderID, errs.ErrNotFound)
	case o.UserID != userID:
		return Payment{}, fmt.Errorf("receipt for order %s: %w", orderID, errs.ErrNotAuthorized)
	}
	p, err := s.paymentOf(ctx, o.ID)
	if err != nil {
		return Payment{}, fmt.Errorf("receipt for order %s: %w", orderID, err)
	}
	if p == nil || p.Status != StatusCharged {
		return Payment{}, fmt.Errorf("receipt for order %s: not charged: %w", orderID, errs.ErrNotFound)
	}
	return *p, nil
}
