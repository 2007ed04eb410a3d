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

	"github.com/ticketing/common/mongox"
	"github.com/ticketing/services/orders/internal/order"
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

// Remember records that orderID reserved ticketID until until. The write
// outlives the buyer's request: the reservation it follows is stored.
func (s *Holds) Remember(ctx context.Context, ticketID, orderID string, until time.Time) error {
	oid, err := primitive.ObjectIDFromHex(ticketID)
	if err != nil {
		return fmt.Errorf("store: ticket id %q: %w", ticketID, err)
	}
	wctx, cancel := mongox.WriteContext(ctx)
	defer cancel()
	_, err = s.coll.UpdateOne(wctx, bson.M{"_id": oid},
		bson.M{"$set": bson.M{"orderId": orderID, "until": until}}, options.Update().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("remember the hold on ticket %s: %w", ticketID, err)
	}
	return nil
}

// Last returns the last hold remembered for ticketID; found is false when
// none is.
func (s *Holds) Last(ctx context.Context, ticketID string) (h order.Hold, found bool, err error) {
	oid, err := primitive.ObjectIDFromHex(ticketID)
	if err != nil {
		return order.Hold{}, false, nil
	}
	var doc holdDoc
	err = s.coll.FindOne(ctx, bson.M{"_id": oid}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return order.Hold{}, false, nil
	}
	if err != nil {
		return order.Hold{}, false, fmt.Errorf("read the hold on ticket %s: %w", ticketID, err)
	}
	return order.Hold{OrderID: doc.OrderID, Until: doc.Until.UTC()}, true, nil
}
