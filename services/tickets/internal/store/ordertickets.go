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
	"github.com/ticketing/services/tickets/internal/ticket"
)

// OrderTicketsCollection maps an order to its ticket, keyed by the order id.
const OrderTicketsCollection = "orderTickets"

// OrderTickets is ticket.OrderTickets in MongoDB: payment:created names only
// its order, and a read by _id finds the ticket on any store (a filter on
// the tickets' orderId would read the whole collection on the local one,
// and misses an order that no longer holds its ticket).
type OrderTickets struct {
	coll *mongo.Collection
}

// NewOrderTickets uses the orderTickets collection of db.
func NewOrderTickets(db *mongo.Database) *OrderTickets {
	return &OrderTickets{coll: db.Collection(OrderTicketsCollection)}
}

// Remember records o; repeating it is harmless.
func (s *OrderTickets) Remember(ctx context.Context, o ticket.OrderTicket) error {
	oid, err := primitive.ObjectIDFromHex(o.OrderID)
	if err != nil {
		return fmt.Errorf("remember order %q: %w", o.OrderID, err)
	}
	_, err = s.coll.UpdateOne(ctx, bson.M{"_id": oid},
		bson.M{"$set": bson.M{"ticketId": o.TicketID, "expiresAt": o.ExpiresAt.UTC()}},
		options.Update().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("remember ticket of order %s: %w", o.OrderID, err)
	}
	return nil
}

// Get returns errs.ErrNotFound for an order it has not heard of.
func (s *OrderTickets) Get(ctx context.Context, orderID string) (ticket.OrderTicket, error) {
	oid, err := primitive.ObjectIDFromHex(orderID)
	if err != nil {
		return ticket.OrderTicket{}, errs.ErrNotFound
	}
	var doc struct {
		TicketID  string    `bson:"ticketId"`
		ExpiresAt time.Time `bson:"expiresAt"`
	}
	err = s.coll.FindOne(ctx, bson.M{"_id": oid}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return ticket.OrderTicket{}, errs.ErrNotFound
	}
	if err != nil {
		return ticket.OrderTicket{}, fmt.Errorf("find ticket of order %s: %w", orderID, err)
	}
	return ticket.OrderTicket{OrderID: orderID, TicketID: doc.TicketID, ExpiresAt: doc.ExpiresAt.UTC()}, nil
}
