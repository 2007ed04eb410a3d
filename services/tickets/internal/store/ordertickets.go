package store

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

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

// Remember records that orderID is for ticketID; repeating it is harmless.
func (s *OrderTickets) Remember(ctx context.Context, orderID, ticketID string) error {
	oid, err := primitive.ObjectIDFromHex(orderID)
	if err != nil {
		return fmt.Errorf("remember order %q: %w", orderID, err)
	}
	_, err = s.coll.UpdateOne(ctx, bson.M{"_id": oid}, bson.M{"$set": bson.M{"ticketId": ticketID}},
		options.Update().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("remember ticket of order %s: %w", orderID, err)
	}
	return nil
}

// TicketOf returns ticket.ErrNotFound for an order it has not heard of.
func (s *OrderTickets) TicketOf(ctx context.Context, orderID string) (string, error) {
	oid, err := primitive.ObjectIDFromHex(orderID)
	if err != nil {
		return "", ticket.ErrNotFound
	}
	var doc struct {
		TicketID string `bson:"ticketId"`
	}
	err = s.coll.FindOne(ctx, bson.M{"_id": oid}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return "", ticket.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("find ticket of order %s: %w", orderID, err)
	}
	return doc.TicketID, nil
}
