package payment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/events"
)

// Orders is what the service needs from the orders replica.
type Orders interface {
	// ApplyCreated stores o if the replica has no copy or an older one, and
	// reports whether it did. When the copy is newer but lacks o's details
	// (its cancellation came first), it fills in UserID, Price and
	// ExpiresAt and keeps the rest.
	ApplyCreated(ctx context.Context, o Order) (applied bool, err error)
	// ApplyCancelled marks order id cancelled at version if the replica has
	// no copy or an older one, and reports whether it did. With no copy it
	// keeps a cancelled one without details.
	ApplyCancelled(ctx context.Context, id string, version int64) (applied bool, err error)
	// Get returns errs.ErrNotFound for an order the replica does not have.
	Get(ctx context.Context, id string) (Order, error)
	// SetIntent keeps intentID as the order's PaymentIntent unless it has
	// one already, and returns the one it keeps; errs.ErrNotFound for an
	// order the replica does not have.
	SetIntent(ctx context.Context, id, intentID string) (stored string, err error)
}

// Payments is what the service needs from the payments collection.
type Payments interface {
	// Insert stores a new payment record with evs in its outbox;
	// ErrPaymentExists if the order has one.
	Insert(ctx context.Context, p Payment, evs ...events.Payload) error
	// GetByOrder returns errs.ErrNotFound when the order has no payment record.
	GetByOrder(ctx context.Context, orderID string) (Payment, error)
	// Update stores next (from's successor, one version up) with evs in its
	// outbox, only if the stored record is still at from's version;
	// otherwise an error matching errs.ErrConflict.
	Update(ctx context.Context, from, next Payment, evs ...events.Payload) error
}

const (
	// DefaultStripeTimeout bounds one Stripe call, retries included.
	DefaultStripeTimeout = 30 * time.Second
	// DefaultLeaseTTL must outlast a Stripe call and the write after it, or
	// a slow holder would see its attempt taken over while it still runs.
	DefaultLeaseTTL = 2 * time.Minute
	// writeTimeout bounds recording Stripe's answer. It runs even after the
	// caller gave up: a charge Stripe made must be written down.
	writeTimeout = 10 * time.Second
	// maxAttempts bounds the re-read-and-retry loops after version conflicts.
	maxAttempts = errs.DefaultConflictAttempts
)

// Config is what NewService needs.
type Config struct {
	Orders   Orders
	Payments Payments
	Gateway  Gateway
	// Notify wakes the outbox relay with the payment's id after a write that
	// stored events; nil means nobody needs waking.
	Notify func(ids ...string)
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger // nil = discard
	// StripeTimeout and LeaseTTL: zero means the defaults above.
	StripeTimeout time.Duration
	LeaseTTL      time.Duration
}

// Service applies the payments rules.
type Service struct {
	orders        Orders
	payments      Payments
	gw            Gateway
	notify        func(ids ...string)
	now           func() time.Time
	log           *slog.Logger
	stripeTimeout time.Duration
	leaseTTL      time.Duration
}

// NewService checks cfg and fills in defaults.
func NewService(cfg Config) (*Service, error) {
	if cfg.Orders == nil || cfg.Payments == nil || cfg.Gateway == nil {
		return nil, errors.New("payment: service needs an orders store, a payments store and a gateway")
	}
	if cfg.StripeTimeout == 0 {
		cfg.StripeTimeout = DefaultStripeTimeout
	}
	if cfg.LeaseTTL == 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	if cfg.StripeTimeout < 0 || cfg.LeaseTTL <= cfg.StripeTimeout {
		return nil, fmt.Errorf("payment: lease %v must be longer than the Stripe timeout %v", cfg.LeaseTTL, cfg.StripeTimeout)
	}
	if cfg.Notify == nil {
		cfg.Notify = func(...string) {}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{
		orders: cfg.Orders, payments: cfg.Payments, gw: cfg.Gateway, notify: cfg.Notify, now: cfg.Now,
		log: cfg.Logger, stripeTimeout: cfg.StripeTimeout, leaseTTL: cfg.LeaseTTL,
	}, nil
}

func (s *Service) newLease() Lease {
	return Lease{Owner: primitive.NewObjectID().Hex(), Until: s.now().Add(s.leaseTTL)}
}

// Pay is POST /api/payments: it refuses in the contract's order (404, 401,
// cancelled, already paid, expired), then charges the order's price once.
// Many requests racing for one order all read "payable", but only one can
// claim the order's payment record; the rest are told it is paid.
func (s *Service) Pay(ctx context.Context, userID, orderID, token string) (Payment, error) {
	var p Payment
	var repeat bool
	err := errs.RetryOnConflict(maxAttempts, func() (err error) {
		// Someone may claim or change the record meanwhile: re-read and decide again.
		p, repeat, err = s.claim(ctx, userID, orderID, token)
		return err
	})
	if err != nil {
		return Payment{}, fmt.Errorf("pay order %s: %w", orderID, err)
	}
	if !repeat {
		// A cancel may have landed since the read in claim. The cancel
		// listener writes the cancel and then reads this record, while
		// here the record was written and now the order is read, so at
		// least one of the two sees the other: no charge slips past a
		// cancel unrefunded.
		o, err := s.orders.Get(ctx, orderID)
		if err != nil || o.Cancelled() {
			s.drop(ctx, p)
			if err == nil {
				err = ErrOrderCancelled
			}
			return Payment{}, fmt.Errorf("pay order %s: %w", orderID, err)
		}
	}
	p, err = s.settle(ctx, p)
	if err != nil {
		return Payment{}, fmt.Errorf("pay order %s: %w", orderID, err)
	}
	return p, nil
}

// claim checks the refusals and takes the order's payment record under a
// fresh lease. repeat says it took over a pending attempt, which must be
// sent again exactly as it was (same key, token and amount).
func (s *Service) claim(ctx context.Context, userID, orderID, token string) (p Payment, repeat bool, err error) {
	o, err := s.orders.Get(ctx, orderID)
	if err != nil {
		return Payment{}, false, err
	}
	if o.UserID == "" {
		// Only its cancellation has been heard: whose it is stays unknown
		// until its order:created, so it is answered as before that event.
		return Payment{}, false, errs.ErrNotFound
	}
	cur, err := s.paymentOf(ctx, o.ID)
	if err != nil {
		return Payment{}, false, err
	}
	if err := CheckPayable(o, cur, userID, s.now()); err != nil {
		return Payment{}, false, err
	}
	lease := s.newLease()
	switch {
	case cur == nil:
		p = NewAttempt(o, token, lease)
		if err := s.payments.Insert(ctx, p); err != nil {
			if errors.Is(err, ErrPaymentExists) {
				return Payment{}, false, errs.Wrap(errs.ErrConflict, err)
			}
			return Payment{}, false, err
		}
		return p, false, nil
	case cur.Status == StatusFailed:
		p = cur.Retry(o, token, lease)
	default: // pending, its lease lapsed (CheckPayable refuses a live one)
		p, repeat = cur.TakeOver(lease), true
	}
	if err := s.payments.Update(ctx, *cur, p); err != nil {
		return Payment{}, false, err
	}
	return p, repeat, nil
}

// paymentOf returns the order's payment record, or nil if it has none.
func (s *Service) paymentOf(ctx context.Context, orderID string) (*Payment, error) {
	p, err := s.payments.GetByOrder(ctx, orderID)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// settle sends p's attempt to Stripe and records the answer. p is pending
// and leased by the caller.
func (s *Service) settle(ctx context.Context, p Payment) (Payment, error) {
	// Once the request is on its way, the caller hanging up must not stop
	// us from learning and recording what Stripe did.
	ctx = context.WithoutCancel(ctx)
	sctx, cancel := context.WithTimeout(ctx, s.stripeTimeout)
	chargeID, err := s.gw.Charge(sctx, ChargeRequest{IdempotencyKey: p.ChargeKey(), Token: p.Token, Amount: p.Amount})
	cancel()
	log := s.log.With("orderId", p.OrderID, "paymentId", p.ID, "attempt", p.Attempt)

	var declined *DeclinedError
	switch {
	case err == nil:
		next := p.Charged(chargeID)
		err := s.write(ctx, p, next, next.CreatedEvent())
		if !errs.Refused(err) { // as in insert
			s.notify(next.ID)
		}
		if err != nil {
			if errors.Is(err, errs.ErrConflict) {
				// Our lease lapsed and someone repeated the attempt under
				// the same key: Stripe gave them this very charge.
				if cur, rerr := s.paymentOf(ctx, p.OrderID); rerr == nil && cur != nil &&
					cur.Status == StatusCharged && cur.StripeID == chargeID {
					return *cur, nil
				}
			}
			log.Error("charged but not recorded; the attempt stays pending and will be repeated under its idempotency key",
				"stripeId", chargeID, "err", err)
			return Payment{}, err
		}
		log.Info("order charged", "stripeId", chargeID, "amount", p.Amount)
		return next, nil
	case errors.As(err, &declined):
		if werr := s.write(ctx, p, p.Failed()); werr != nil {
			// The lease lapses and a takeover repeats the attempt, which
			// Stripe answers with the same refusal.
			log.Warn("decline not recorded", "err", werr)
		}
		log.Info("charge declined", "message", declined.Message)
		return Payment{}, errs.Wrap(errs.New(errs.KindPaymentFailed, declined.Message), err)
	default:
		if werr := s.write(ctx, p, p.Released()); werr != nil {
			log.Warn("lease not released; it lapses on its own", "err", werr)
		}
		log.Error("stripe charge failed with an unknown outcome; the next try repeats it", "err", err)
		return Payment{}, errs.Wrap(ErrStripeUnavailable, err)
	}
}

// drop ends a claimed attempt that never went to Stripe.
func (s *Service) drop(ctx context.Context, p Payment) {
	if err := s.write(context.WithoutCancel(ctx), p, p.Failed()); err != nil {
		s.log.Warn("could not drop an unsent attempt; its lease lapses on its own", "orderId", p.OrderID, "err", err)
	}
}

func (s *Service) write(ctx context.Context, from, next Payment, evs ...events.Payload) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return s.payments.Update(ctx, from, next, evs...)
}
