// Package store keeps the orders service's orders and its replica of
// tickets in MongoDB.
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
	"github.com/ticketing/services/orders/internal/order"
)

// OrdersCollection is where orders live; the outbox relay reads it too.
const OrdersCollection = "orders"

// Orders is the orders collection.
type Orders struct {
	coll *mongo.Collection
	now  func() time.Time
}

type orderTicketDoc struct {
	ID      primitive.ObjectID `bson:"id"`
	Title   string             `bson:"title"`
	Price   float64            `bson:"price"`
	Version int64              `bson:"version"`
}

type orderDoc struct {
	ID        primitive.ObjectID `bson:"_id"`
	UserID    string             `bson:"userId"`
	Status    string             `bson:"status"`
	ExpiresAt time.Time          `bson:"expiresAt"`
	// Ticket is the ticket as it was when the order was made.
	Ticket orderTicketDoc `bson:"ticket"`
	// Reservation carries the unique index that makes reserving atomic; see
	// order.Order.ReservationKey.
	Reservation string               `bson:"reservation"`
	Version     int64                `bson:"version"`
	CreatedAt   time.Time            `bson:"createdAt"`
	Outbox      []mongox.OutboxEvent `bson:"outbox,omitempty"`
}

// NewOrders uses the orders collection of db; now stamps createdAt (nil
// means time.Now).
func NewOrders(db *mongo.Database, now func() time.Time) *Orders {
	if now == nil {
		now = time.Now
	}
	return &Orders{coll: db.Collection(OrdersCollection), now: now}
}

// Collection is the collection the outbox relay sweeps.
func (s *Orders) Collection() *mongo.Collection { return s.coll }

// EnsureIndexes creates the unique reservation index and the index the
// buyer's list reads by.
func (s *Orders) EnsureIndexes(ctx context.Context) error {
	return mongox.EnsureIndexes(ctx, s.coll,
		mongo.IndexModel{
			Keys:    bson.D{{Key: "reservation", Value: 1}},
			Options: options.Index().SetName("reservation_unique").SetUnique(true),
		},
		mongo.IndexModel{
			Keys:    bson.D{{Key: "userId", Value: 1}, {Key: "createdAt", Value: 1}},
			Options: options.Index().SetName("user_created"),
		},
	)
}

// Insert stores a new order with evs in its outbox, in one insert. Another
// active order of the ticket makes it order.ErrTicketReserved.
func (s *Orders) Insert(ctx context.Context, o order.Order, evs ...events.Payload) error {
	doc, err := toOrderDoc(o)
	if err != nil {
		return err
	}
	doc.CreatedAt = s.now().UTC()
	if doc.Outbox, err = mongox.Outbox(evs...); err != nil {
		return err
	}
	wctx, cancel := mongox.WriteContext(ctx) // it stores events: see WriteContext
	defer cancel()
	if _, err := s.coll.InsertOne(wctx, doc); err != nil {
		if mongox.IsDuplicateKey(err) {
			return errs.Wrap(order.ErrTicketReserved, err)
		}
		return fmt.Errorf("insert order: %w", err)
	}
	return nil
}

// Get returns errs.ErrNotFound for an unknown id.
func (s *Orders) Get(ctx context.Context, id string) (order.Order, error) {
	oid, err := primitive.ObjectIDFromHex(id)
	if err != nil {
		return order.Order{}, errs.Wrap(errs.ErrNotFound, err)
	}
	var doc orderDoc
	err = s.coll.FindOne(ctx, bson.M{"_id": oid}, options.FindOne().SetProjection(bson.M{"outbox": 0})).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return order.Order{}, errs.ErrNotFound
	}
	if err != nil {
		return order.Order{}, fmt.Errorf("find order %s: %w", id, err)
	}
	return doc.toOrder(), nil
}

// ListByUser returns a user's orders, oldest first.
func (s *Orders) ListByUser(ctx context.Context, userID string) ([]order.Order, error) {
	cur, err := s.coll.Find(ctx, bson.M{"userId": userID}, options.Find().
		SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}).
		SetProjection(bson.M{"outbox": 0}))
	if err != nil {
		return nil, fmt.Errorf("find orders of user: %w", err)
	}
	var docs []orderDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read orders of user: %w", err)
	}
	out := make([]order.Order, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.toOrder())
	}
	return out, nil
}

// Transition stores next over from with one versioned update that also
// moves the reservation and appends evs to the outbox.
func (s *Orders) Transition(ctx context.Context, from, next order.Order, evs ...events.Payload) error {
	if next.ID != from.ID || next.Version != from.Version+1 {
		return fmt.Errorf("store: order transition from %s v%d to %s v%d is not one version up",
			from.ID, from.Version, next.ID, next.Version)
	}
	oid, err := primitive.ObjectIDFromHex(from.ID)
	if err != nil {
		return errs.Wrap(errs.ErrNotFound, err)
	}
	set := bson.M{"status": string(next.Status)}
	// Setting the reservation only when it moves keeps a unique-index write
	// out of updates that do not release the ticket.
	if key := next.ReservationKey(); key != from.ReservationKey() {
		set["reservation"] = key
	}
	box, err := mongox.Outbox(evs...)
	if err != nil {
		return err
	}
	return mongox.UpdateVersioned(ctx, s.coll, oid, from.Version, mongox.Change{Set: set, Events: box})
}

func toOrderDoc(o order.Order) (orderDoc, error) {
	oid, err := primitive.ObjectIDFromHex(o.ID)
	if err != nil {
		return orderDoc{}, fmt.Errorf("store: order id %q: %w", o.ID, err)
	}
	tid, err := primitive.ObjectIDFromHex(o.Ticket.ID)
	if err != nil {
		return orderDoc{}, fmt.Errorf("store: ticket id %q: %w", o.Ticket.ID, err)
	}
	return orderDoc{
		ID:          oid,
		UserID:      o.UserID,
		Status:      string(o.Status),
		ExpiresAt:   o.ExpiresAt,
		Ticket:      orderTicketDoc{ID: tid, Title: o.Ticket.Title, Price: o.Ticket.Price, Version: o.Ticket.Version},
		Reservation: o.ReservationKey(),
		Version:     o.Version,
	}, nil
}

func (d orderDoc) toOrder() order.Order {
	return order.Order{
		ID:        d.ID.Hex(),
		UserID:    d.UserID,
		Status:    order.Status(d.Status),
		ExpiresAt: d.ExpiresAt.UTC(),
		Ticket:    order.Ticket{ID: d.Ticket.ID.Hex(), Title: d.Ticket.Title, Price: d.Ticket.Price, Version: d.Ticket.Version},
		Version:   d.Version,
	}
}
