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
}

// NewOrders uses the orders collection of db.
func NewOrders(db *mongo.Database) *Orders { return &Orders{coll: db.Collection(OrdersCollection)} }

// Insert adds an order; payment.ErrOrderKnown if the replica has it already.
func (s *Orders) Insert(ctx context.Context, o payment.Order) error {
	oid, err := primitive.ObjectIDFromHex(o.ID)
	if err != nil {
		return fmt.Errorf("store: order id %q: %w", o.ID, err)
	}
	_, err = s.coll.InsertOne(ctx, orderDoc{
		ID: oid, Version: o.Version, UserID: o.UserID, Price: o.Price, Status: o.Status, ExpiresAt: o.ExpiresAt.UTC(),
	})
	if mongox.IsDuplicateKey(err) {
		return payment.ErrOrderKnown
	}
	if err != nil {
		return fmt.Errorf("insert order %s: %w", o.ID, err)
	}
	return nil
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
		Status: doc.Status, ExpiresAt: doc.ExpiresAt.UTC(),
	}, nil
}

// Cancel stores o as cancelled at version o.Version+1 if the replica is still
// at o.Version (errs.ErrConflict otherwise).
func (s *Orders) Cancel(ctx context.Context, o payment.Order) error {
	oid, err := primitive.ObjectIDFromHex(o.ID)
	if err != nil {
		return errs.Wrap(errs.ErrNotFound, err)
	}
	return mongox.UpdateVersioned(ctx, s.coll, oid, o.Version, mongox.Change{
		Set: bson.M{"status": events.OrderStatusCancelled},
	})
}
