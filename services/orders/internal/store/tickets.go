package store

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/mongox"
	"github.com/ticketing/services/orders/internal/order"
)

// TicketsCollection holds the replica of the tickets service's tickets.
const TicketsCollection = "tickets"

// Tickets is the tickets replica. It publishes nothing, so its records have
// no outbox.
type Tickets struct {
	coll *mongo.Collection
}

type ticketDoc struct {
	ID        primitive.ObjectID `bson:"_id"`
	Title     string             `bson:"title"`
	Price     float64            `bson:"price"`
	Version   int64              `bson:"version"`
	Withdrawn bool               `bson:"withdrawn,omitempty"`
}

// NewTickets uses the tickets collection of db.
func NewTickets(db *mongo.Database) *Tickets { return &Tickets{coll: db.Collection(TicketsCollection)} }

// Get returns errs.ErrNotFound for a ticket the replica does not have.
func (s *Tickets) Get(ctx context.Context, id string) (order.Ticket, error) {
	oid, err := primitive.ObjectIDFromHex(id)
	if err != nil {
		return order.Ticket{}, errs.Wrap(errs.ErrNotFound, err)
	}
	var doc ticketDoc
	err = s.coll.FindOne(ctx, bson.M{"_id": oid}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return order.Ticket{}, errs.ErrNotFound
	}
	if err != nil {
		return order.Ticket{}, fmt.Errorf("find ticket %s: %w", id, err)
	}
	return doc.toTicket(), nil
}

// GetMany returns the tickets the replica has among ids, by id.
//
// It reads them one by one, by _id. MongoDB would serve an $in from the
// _id index as well, but FerretDB hands only an _id equality to SQLite and
// decodes every replica for $in: at 100,000 tickets each GET /api/orders
// took seconds, on the connection every other query of the service waits
// for. A user's orders are few, and an _id read costs under a millisecond
// on either store.
func (s *Tickets) GetMany(ctx context.Context, ids []string) (map[string]order.Ticket, error) {
	out := make(map[string]order.Ticket, len(ids))
	for _, id := range ids {
		if _, done := out[id]; done {
			continue
		}
		t, err := s.Get(ctx, id)
		if errors.Is(err, errs.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[id] = t
	}
	return out, nil
}

// Apply stores t's title and price at t's version if the replica has no
// copy of the ticket or an older one; applied is false when it holds t's
// version or a newer one (mongox.ApplyNewer, CONTRACT.md §3).
func (s *Tickets) Apply(ctx context.Context, t order.Ticket) (applied bool, err error) {
	oid, err := primitive.ObjectIDFromHex(t.ID)
	if err != nil {
		return false, fmt.Errorf("store: ticket id %q: %w", t.ID, err)
	}
	return mongox.ApplyNewer(ctx, s.coll, oid, t.Version, bson.M{"title": t.Title, "price": t.Price, "withdrawn": t.Withdrawn})
}

func (d ticketDoc) toTicket() order.Ticket {
	return order.Ticket{ID: d.ID.Hex(), Title: d.Title, Price: d.Price, Version: d.Version, Withdrawn: d.Withdrawn}
}
