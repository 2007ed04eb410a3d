package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/events"
	"github.com/ticketing/common/mongox"
	"github.com/ticketing/services/payments/internal/payment"
)

// PaymentsCollection is where payment records live; the outbox relay reads it too.
const PaymentsCollection = "payments"

// Payments is the payments collection.
type Payments struct {
	coll   *mongo.Collection
	orders *mongo.Collection
	now    func() time.Time
}

type leaseDoc struct {
	Owner string    `bson:"owner"`
	Until time.Time `bson:"until"`
}

type refundDoc struct {
	ID string    `bson:"id,omitempty"`
	At time.Time `bson:"at"`
}

type paymentDoc struct {
	ID        primitive.ObjectID   `bson:"_id"`
	OrderID   string               `bson:"orderId"`
	Version   int64                `bson:"version"`
	Status    string               `bson:"status"`
	Attempt   int64                `bson:"attempt"`
	Amount    int64                `bson:"amount"`
	Token     string               `bson:"token,omitempty"`
	StripeID  string               `bson:"stripeId,omitempty"`
	Intent    bool                 `bson:"intent,omitempty"`
	Refund    *refundDoc           `bson:"refund,omitempty"`
	Lease     *leaseDoc            `bson:"lease,omitempty"`
	CreatedAt time.Time            `bson:"createdAt"`
	Outbox    []mongox.OutboxEvent `bson:"outbox,omitempty"`
}

// NewPayments uses the payments collection of db; now stamps createdAt (nil
// means time.Now).
func NewPayments(db *mongo.Database, now func() time.Time) *Payments {
	if now == nil {
		now = time.Now
	}
	return &Payments{coll: db.Collection(PaymentsCollection), orders: db.Collection(OrdersCollection), now: now}
}

// Collection is the collection the outbox relay sweeps.
func (s *Payments) Collection() *mongo.Collection { return s.coll }

// EnsureIndexes creates the unique order index: one payment record per
// order, however many requests race to create it.
func (s *Payments) EnsureIndexes(ctx context.Context) error {
	return mongox.EnsureIndexes(ctx, s.coll, mongo.IndexModel{
		Keys:    bson.D{{Key: "orderId", Value: 1}},
		Options: options.Index().SetName("orderId_unique").SetUnique(true),
	})
}

// Insert stores a new record with evs in its outbox;
// payment.ErrPaymentExists if its order has one. A card attempt carries no
// event (its record is created before the charge, and payment:created goes
// in with the update that records the charge); a PaymentIntent's record is
// created once the money moved, with its payment:created.
func (s *Payments) Insert(ctx context.Context, p payment.Payment, evs ...events.Payload) error {
	doc, err := toPaymentDoc(p)
	if err != nil {
		return err
	}
	if doc.Outbox, err = mongox.Outbox(evs...); err != nil {
		return err
	}
	doc.CreatedAt = s.now().UTC()
	wctx, cancel := mongox.WriteContext(ctx) // it stores events: see WriteContext
	defer cancel()
	if _, err := s.coll.InsertOne(wctx, doc); err != nil {
		if mongox.IsDuplicateKey(err) {
			return fmt.Errorf("insert payment of order %s: %w: %w", p.OrderID, payment.ErrPaymentExists, err)
		}
		return fmt.Errorf("insert payment of order %s: %w", p.OrderID, err)
	}
	return nil
}

// GetByOrder returns errs.ErrNotFound when the order has no payment record.
//
// A record is named by its order (payment.PaymentID), so it is read by _id.
// Records written before that rule have ids of their own; they belong to
// orders whose replica lacks fieldPaymentByID, and only for those is the
// record looked up by its orderId field (an index read on MongoDB, a scan on
// the local store), so an order without a payment costs two reads by _id.
func (s *Payments) GetByOrder(ctx context.Context, orderID string) (payment.Payment, error) {
	oid, err := primitive.ObjectIDFromHex(orderID)
	if err != nil {
		return payment.Payment{}, errs.Wrap(errs.ErrNotFound, err)
	}
	p, err := s.findOne(ctx, orderID, bson.M{"_id": oid})
	if !errors.Is(err, errs.ErrNotFound) {
		return p, err
	}
	var marked struct {
		ByID bool `bson:"paymentById"`
	}
	err = s.orders.FindOne(ctx, bson.M{"_id": oid}, options.FindOne().SetProjection(bson.M{fieldPaymentByID: 1})).Decode(&marked)
	switch {
	case err == nil && marked.ByID:
		return payment.Payment{}, errs.ErrNotFound
	case err != nil && !errors.Is(err, mongo.ErrNoDocuments):
		return payment.Payment{}, fmt.Errorf("find order %s: %w", orderID, err)
	}
	return s.findOne(ctx, orderID, bson.M{"orderId": orderID})
}

func (s *Payments) findOne(ctx context.Context, orderID string, filter bson.M) (payment.Payment, error) {
	var doc paymentDoc
	err := s.coll.FindOne(ctx, filter, options.FindOne().SetProjection(bson.M{"outbox": 0})).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return payment.Payment{}, errs.ErrNotFound
	}
	if err != nil {
		return payment.Payment{}, fmt.Errorf("find payment of order %s: %w", orderID, err)
	}
	return doc.toPayment(), nil
}

// Update stores next over from with one versioned update that also appends
// evs to the outbox, so a charge and its payment:created are one write.
func (s *Payments) Update(ctx context.Context, from, next payment.Payment, evs ...events.Payload) error {
	if next.ID != from.ID || next.OrderID != from.OrderID || next.Version != from.Version+1 {
		return fmt.Errorf("store: payment update from %s v%d to %s v%d is not one version up",
			from.ID, from.Version, next.ID, next.Version)
	}
	oid, err := primitive.ObjectIDFromHex(from.ID)
	if err != nil {
		return errs.Wrap(errs.ErrNotFound, err)
	}
	doc, err := toPaymentDoc(next)
	if err != nil {
		return err
	}
	box, err := mongox.Outbox(evs...)
	if err != nil {
		return err
	}
	ch := mongox.Change{
		Set:    bson.M{"status": doc.Status, "attempt": doc.Attempt, "amount": doc.Amount},
		Events: box,
	}
	optional := []struct {
		field   string
		value   any
		present bool
	}{
		{"token", doc.Token, doc.Token != ""},
		{"stripeId", doc.StripeID, doc.StripeID != ""},
		{"intent", doc.Intent, doc.Intent},
		{"refund", doc.Refund, doc.Refund != nil},
		{"lease", doc.Lease, doc.Lease != nil},
	}
	for _, f := range optional {
		if f.present {
			ch.Set[f.field] = f.value
		} else {
			ch.Unset = append(ch.Unset, f.field)
		}
	}
	return mongox.UpdateVersioned(ctx, s.coll, oid, from.Version, ch)
}

func toPaymentDoc(p payment.Payment) (paymentDoc, error) {
	oid, err := primitive.ObjectIDFromHex(p.ID)
	if err != nil {
		return paymentDoc{}, fmt.Errorf("store: payment id %q: %w", p.ID, err)
	}
	doc := paymentDoc{
		ID: oid, OrderID: p.OrderID, Version: p.Version, Status: string(p.Status), Attempt: p.Attempt,
		Amount: p.Amount, Token: p.Token, StripeID: p.StripeID, Intent: p.Intent,
	}
	if p.Refund != nil {
		doc.Refund = &refundDoc{ID: p.Refund.ID, At: p.Refund.At.UTC()}
	}
	if p.Lease != nil {
		doc.Lease = &leaseDoc{Owner: p.Lease.Owner, Until: p.Lease.Until.UTC()}
	}
	return doc, nil
}

func (d paymentDoc) toPayment() payment.Payment {
	p := payment.Payment{
		ID: d.ID.Hex(), OrderID: d.OrderID, Version: d.Version, Status: payment.Status(d.Status), Attempt: d.Attempt,
		Amount: d.Amount, Token: d.Token, StripeID: d.StripeID, Intent: d.Intent,
	}
	if d.Refund != nil {
		p.Refund = &payment.Refund{ID: d.Refund.ID, At: d.Refund.At.UTC()}
	}
	if d.Lease != nil {
		p.Lease = &payment.Lease{Owner: d.Lease.Owner, Until: d.Lease.Until.UTC()}
	}
	return p
}
