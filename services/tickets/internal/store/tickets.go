// Package store keeps the tickets service's tickets in MongoDB, each with
// the events its changes cause in its own outbox (ARCHITECTURE.md §3).
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
	"github.com/ticketing/services/tickets/internal/ticket"
)

// Collection is the name of the tickets collection.
const Collection = "tickets"

// Tickets is the tickets collection.
type Tickets struct {
	coll *mongo.Collection
}

type ticketDoc struct {
	ID             primitive.ObjectID   `bson:"_id"`
	Title          string               `bson:"title"`
	Price          float64              `bson:"price"`
	UserID         string               `bson:"userId"`
	Version        int64                `bson:"version"`
	OrderID        string               `bson:"orderId,omitempty"`
	ReleasedOrders []string             `bson:"releasedOrders,omitempty"`
	StandbyOrders  []string             `bson:"standbyOrders,omitempty"`
	Paid           []paymentDoc         `bson:"paid,omitempty"`
	Withdrawn      bool                 `bson:"withdrawn,omitempty"`
	Outbox         []mongox.OutboxEvent `bson:"outbox,omitempty"`
}

type paymentDoc struct {
	OrderID string    `bson:"orderId"`
	At      time.Time `bson:"at"`
}

// NewTickets uses the tickets collection of db.
func NewTickets(db *mongo.Database) *Tickets {
	return &Tickets{coll: db.Collection(Collection)}
}

// Collection is the collection, for the outbox relay.
func (s *Tickets) Collection() *mongo.Collection { return s.coll }

// EnsureIndexes creates the index the list of tickets for sale reads:
// unreserved tickets (orderId missing) by _id, newest first.
func (s *Tickets) EnsureIndexes(ctx context.Context) error {
	return mongox.EnsureIndexes(ctx, s.coll, mongo.IndexModel{
		Keys:    bson.D{{Key: "orderId", Value: 1}, {Key: "_id", Value: -1}},
		Options: options.Index().SetName("for_sale_newest_first"),
	}, mongo.IndexModel{
		Keys:    bson.D{{Key: "userId", Value: 1}, {Key: "_id", Value: -1}},
		Options: options.Index().SetName("by_owner_newest_first"),
	})
}

// Insert stores t, a new ticket whose ID the caller chose, with evs in its
// outbox.
func (s *Tickets) Insert(ctx context.Context, t ticket.Ticket, evs ...events.Payload) error {
	id, err := primitive.ObjectIDFromHex(t.ID)
	if err != nil {
		return fmt.Errorf("insert ticket %q: %w", t.ID, err)
	}
	box, err := mongox.Outbox(evs...)
	if err != nil {
		return err
	}
	doc := ticketDoc{
		ID: id, Title: t.Title, Price: t.Price, UserID: t.UserID, Version: t.Version,
		OrderID: t.OrderID, ReleasedOrders: t.ReleasedOrders, StandbyOrders: t.StandbyOrders,
		Outbox: box,
	}
	wctx, cancel := mongox.WriteContext(ctx) // it stores events: see WriteContext
	defer cancel()
	if _, err := s.coll.InsertOne(wctx, doc); err != nil {
		return fmt.Errorf("insert ticket: %w", err)
	}
	return nil
}

// Get returns errs.ErrNotFound for an id that is unknown or not an ObjectId.
func (s *Tickets) Get(ctx context.Context, id string) (ticket.Ticket, error) {
	oid, err := primitive.ObjectIDFromHex(id)
	if err != nil {
		return ticket.Ticket{}, errs.ErrNotFound
	}
	var doc ticketDoc
	err = s.coll.FindOne(ctx, bson.M{"_id": oid}, options.FindOne().SetProjection(bson.M{"outbox": 0})).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return ticket.Ticket{}, errs.ErrNotFound
	}
	if err != nil {
		return ticket.Ticket{}, fmt.Errorf("find ticket %s: %w", id, err)
	}
	return doc.ticket(), nil
}

// Update stores t, the next state of a ticket, only if the stored ticket is
// at t.Version-1, with evs in its outbox in the same update. Every field a
// change may touch is written, so the stored ticket becomes exactly t.
func (s *Tickets) Update(ctx context.Context, t ticket.Ticket, evs ...events.Payload) error {
	oid, err := primitive.ObjectIDFromHex(t.ID)
	if err != nil {
		return errs.ErrNotFound
	}
	if t.Version < 1 {
		return fmt.Errorf("update ticket %s: version %d cannot follow another", t.ID, t.Version)
	}
	box, err := mongox.Outbox(evs...)
	if err != nil {
		return err
	}
	ch := mongox.Change{
		Set:    bson.M{"title": t.Title, "price": t.Price, "userId": t.UserID},
		Events: box,
	}
	if t.OrderID != "" {
		ch.Set["orderId"] = t.OrderID
	} else {
		ch.Unset = append(ch.Unset, "orderId")
	}
	for _, f := range []struct {
		name string
		ids  []string
	}{{"releasedOrders", t.ReleasedOrders}, {"standbyOrders", t.StandbyOrders}} {
		if len(f.ids) > 0 {
			ch.Set[f.name] = f.ids
		} else {
			ch.Unset = append(ch.Unset, f.name)
		}
	}
	if t.Withdrawn {
		ch.Set["withdrawn"] = true
	} else {
		ch.Unset = append(ch.Unset, "withdrawn")
	}
	if len(t.Paid) > 0 {
		paid := make([]paymentDoc, len(t.Paid))
		for i, p := range t.Paid {
			paid[i] = paymentDoc{OrderID: p.OrderID, At: p.At.UTC()}
		}
		ch.Set["paid"] = paid
	} else {
		ch.Unset = append(ch.Unset, "paid")
	}
	return mongox.UpdateVersioned(ctx, s.coll, oid, t.Version-1, ch)
}

// List returns the tickets for sale, newest first. ObjectIds grow with time,
// so _id order is creation order, and an id is a stable cursor.
func (s *Tickets) List(ctx context.Context, p ticket.Page) ([]ticket.Ticket, error) {
	// orderId: null matches a missing orderId, the only way a ticket for sale
	// stores it, and unlike $exists it is answered from the index on MongoDB.
	// withdrawn: {$ne: true} matches the tickets that never were.
	return s.page(ctx, bson.M{"orderId": nil, "withdrawn": bson.M{"$ne": true}}, p,
		bson.M{"outbox": 0, "releasedOrders": 0, "standbyOrders": 0, "paid": 0})
}

// ListByOwner returns userID's tickets in every state but withdrawn, newest
// first (the by_owner_newest_first index on MongoDB).
func (s *Tickets) ListByOwner(ctx context.Context, userID string, p ticket.Page) ([]ticket.Ticket, error) {
	return s.page(ctx, bson.M{"userId": userID, "withdrawn": bson.M{"$ne": true}}, p,
		bson.M{"outbox": 0, "releasedOrders": 0, "standbyOrders": 0})
}

func (s *Tickets) page(ctx context.Context, filter bson.M, p ticket.Page, projection bson.M) ([]ticket.Ticket, error) {
	if p.Before != "" {
		before, err := primitive.ObjectIDFromHex(p.Before)
		if err != nil {
			return nil, fmt.Errorf("list tickets: before %q: %w", p.Before, err)
		}
		filter["_id"] = bson.M{"$lt": before}
	}
	opts := options.Find().
		SetSort(bson.D{{Key: "_id", Value: -1}}).
		SetLimit(int64(p.Limit)).
		SetProjection(projection)
	cur, err := s.coll.Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("list tickets: %w", err)
	}
	var docs []ticketDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("list tickets: %w", err)
	}
	out := make([]ticket.Ticket, len(docs))
	for i, d := range docs {
		out[i] = d.ticket()
	}
	return out, nil
}

// scanBatch is how many tickets one round trip of Scan brings.
const scanBatch = 1000

// Scan calls fn with every stored ticket, in the store's natural order,
// through one cursor read in batches: one pass over the collection, in
// bounded memory, whatever its size. On FerretDB a filter or a sort on
// anything but an _id equality reads the whole collection each time, so
// paging by _id would cost a scan per page.
func (s *Tickets) Scan(ctx context.Context, fn func(ticket.Ticket)) error {
	opts := options.Find().
		SetBatchSize(scanBatch).
		SetProjection(bson.M{"outbox": 0, "releasedOrders": 0, "standbyOrders": 0, "paid": 0})
	cur, err := s.coll.Find(ctx, bson.M{}, opts)
	if err != nil {
		return fmt.Errorf("scan tickets: %w", err)
	}
	defer func() { _ = cur.Close(context.WithoutCancel(ctx)) }()
	for cur.Next(ctx) {
		var d ticketDoc
		if err := cur.Decode(&d); err != nil {
			return fmt.Errorf("scan tickets: %w", err)
		}
		fn(d.ticket())
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("scan tickets: %w", err)
	}
	return nil
}

func (d ticketDoc) ticket() ticket.Ticket {
	t := ticket.Ticket{
		ID: d.ID.Hex(), Title: d.Title, Price: d.Price, UserID: d.UserID,
		Version: d.Version, OrderID: d.OrderID, ReleasedOrders: d.ReleasedOrders, StandbyOrders: d.StandbyOrders,
		Withdrawn: d.Withdrawn,
	}
	for _, p := range d.Paid {
		t.Paid = append(t.Paid, ticket.Payment{OrderID: p.OrderID, At: p.At.UTC()})
	}
	return t
}
