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
)

// HoldsCollection holds, per ticket, the last order that reserved it and
// until when (order.Holds).
const HoldsCollection = "holds"

// Holds keeps the hint by ticket _id, so reading it is an _id lookup on any
// store (FerretDB hands only _id equality to its SQLite index).
type Holds struct {
	coll *mongo.Collection
}

// NewHolds uses the holds collection of db.
func NewHolds(db *mongo.Database) *Holds { return &Holds{coll: db.Collection(HoldsCollection)} }

type holdDoc struct {
	OrderID string    `bson:"orderId"`
	Until   time.Time `bson:"until"`
}

// Remember records that orderID reserved ticketID until until.
func (s *Holds) Remember(ctx context.Context, ticketID, orderID string, until time.Time) error {
	oid, err := primitive.ObjectIDFromHex(ticketID)
	if err != nil {
		return fmt.Errorf("store: ticket id %q: %w", ticketID, err)
	}
	_, err = s.coll.UpdateOne(ctx, bson.M{"_id": oid},
		bson.M{"$set": bson.M{"orderId": orderID, "until": until}}, options.Update().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("remember the hold on ticket %s: %w", ticketID, err)
	}
	return nil
}

// Until returns when the last remembered hold on ticketID ends; the zero
// time when none is remembered.
func (s *Holds) Until(ctx context.Context, ticketID string) (time.Time, error) {
	oid, err := primitive.ObjectIDFromHex(ticketID)
	if err != nil {
		return time.Time{}, nil
	}
	var doc holdDoc
	err = s.coll.FindOne(ctx, bson.M{"_id": oid}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read the hold on ticket %s: %w", ticketID, err)
	}
	return doc.Until, nil
}
