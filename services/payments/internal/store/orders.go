// Package store keeps the payments service's replica of orders and its
// payment records in MongoDB.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/events"
	"github.com/ticketing/common/mongox"
	"github.com/ticketing/services/payments/internal/payment"
)

// OrdersCollection holds the replica of the orders service's orders.
const OrdersCollection = "orders"

// fieldPaymentByID marks an order whose payment record, if it has one, is
// named by the order's id (payment.PaymentID). Set with the order's
// details, which every payment needs first (see Payments.GetByOrder).
const fieldPaymentByID = "paymentById"

// Orders is the orders replica. It publishes nothing, so its records have
// no outbox.
type Orders struct {
	coll *mongo.Collection
}

type orderDoc struct {
	ID        primitive.ObjectID `bson:"_id"`
	Version   int64              `bson:"version"`
	UserID    string             `bson:"userId"`
	Price     float64            `bson:"price"`
	Status    string             `bson:"status"`
	ExpiresAt time.Time          `bson:"expiresAt"`
	// IntentID is the service's own field: the events' $set never names it,
	// so it survives every newer version of the order.
	IntentID string `bson:"paymentIntentId,omitempty"`
}

// NewOrders uses the orders collection of db.
func NewOrders(db *mongo.Database) *Orders { return &Orders{coll: db.Collection(OrdersCollection)} }

// ApplyCreated stores o if the replica has no copy of the order or an older
// one (mongox.ApplyNewer). Otherwise, if the copy lacks the order's details
// because its order:cancelled came first, it fills them in and leaves the
// version and status alone, so the order stays cancelled.
func (s *Orders) ApplyCreated(ctx context.Context, o payment.Order) (applied bool, err error) {
	oid, err := primitive.ObjectIDFromHex(o.ID)
	if err != nil {
		return false, fmt.Errorf("store: order id %q: %w", o.ID, err)
	}
	details := bson.M{"userId": o.UserID, "price": o.Price, "expiresAt": o.ExpiresAt.UTC(), fieldPaymentByID: true}
	set := bson.M{"status": o.Status}
	for k, v := range details {
		set[k] = v
	}
	applied, err = mongox.ApplyNewer(ctx, s.coll, oid, o.Version, set)
	if err != nil || applied {
		return applied, err
	}
	// Only a record made by a cancel lacks userId; every order:created
	// carries it. The filter makes a repeat of this fill-in a no-op.
	_, err = s.coll.UpdateOne(ctx, bson.M{"_id": oid, "userId": bson.M{"$exists": false}}, bson.M{"$set": details})
	if err != nil {
		return false, fmt.Errorf("fill in order %s: %w", o.ID, err)
	}
	return false, nil
}

// ApplyCancelled marks order id cancelled at version if the replica has no
// copy or an older one (mongox.ApplyNewer); with no copy, the record it
// makes holds only the id, the version and the status.
func (s *Orders) ApplyCancelled(ctx context.Context, id string, version int64) (applied bool, err error) {
	oid, err := primitive.ObjectIDFromHex(id)
	if err != nil {
		return false, fmt.Errorf("store: order id %q: %w", id, err)
	}
	return mongox.ApplyNewer(ctx, s.coll, oid, version, bson.M{"status": events.OrderStatusCancelled})
}

// Get returns errs.ErrNotFound for an order the replica does not have.
func (s *Orders) Get(ctx context.Context, id string) (payment.Order, error) {
	oid, err := primitive.ObjectIDFromHex(id)
	if err != nil {
		return payment.Order{}, errs.Wrap(errs.ErrNotFound, err)
	}
	var doc orderDoc
	err = s.coll.FindOne(ctx, bson.M{"_id": oid}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return payment.Order{}, errs.ErrNotFound
	}
	if err != nil {
		return payment.Order{}, fmt.Errorf("find order %s: %w", id, err)
	}
	return payment.Order{
		ID: doc.ID.Hex(), Version: doc.Version, UserID: doc.UserID, Price: doc.Price,
		Status: doc.Status, ExpiresAt: doc.ExpiresAt.UTC(), IntentID: doc.IntentID,
	}, nil
}

// SetIntent keeps intentID as the order's PaymentIntent unless the order
// has one already, and returns the one the order keeps. The filter lets
// only the first of racing requests set it.
func (s *Orders) SetIntent(ctx context.Context, id, intentID string) (string, error) {
	oid, err := primitive.ObjectIDFromHex(id)
	if err != nil {
		return "", errs.Wrap(errs.ErrNotFound, err)
	}
	_, err = s.coll.UpdateOne(ctx, bson.M{"_id": oid, "paymentIntentId": bson.M{"$exists": false}},
		bson.M{"$set": bson.M{"paymentIntentId": intentID}})
	if err != nil {
		return "", fmt.Errorf("set intent of order %s: %w", id, err)
	}
	o, err := s.Get(ctx, id)
	if err != nil {
		return "", err
	}
	return o.IntentID, nil
}
