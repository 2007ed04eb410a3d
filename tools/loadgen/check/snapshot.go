// Package check judges the state a load run left behind by reading the
// services' own databases: no ticket held by two orders, every replica in
// step with its source, no hold that outlived its expiresAt, no charge
// without a complete order or a refund, no event left in an outbox. The
// judging is pure (over a Snapshot) so it is tested without a database; Run
// takes snapshots until the state converges or time is up.
package check

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
)

// DBs are the services' databases; a nil one skips the checks that need it.
type DBs struct {
	Tickets, Orders, Payments *mongo.Database
}

// Collection names as the services store them.
const (
	collTickets  = "tickets" // tickets: the tickets; orders: its replica of them
	collOrders   = "orders"  // orders: the orders; payments: its replica of them
	collPayments = "payments"
)

// Ticket is a ticket as the tickets service stores it, or as the orders
// service's replica has it (no UserID, no OrderID).
type Ticket struct {
	ID      string
	Title   string
	Price   float64
	Version int64
	OrderID string
	Outbox  int // events not yet published
}

// Order is an order as the orders service stores it.
type Order struct {
	ID        string
	TicketID  string
	Status    string
	ExpiresAt time.Time
	Version   int64
	Outbox    int
}

// PaymentOrder is an order as the payments service's replica has it.
type PaymentOrder struct {
	ID      string
	Status  string
	Version int64
	Outbox  int
}

// Charge is the payments service's record of an order's payment.
type Charge struct {
	ID      string
	OrderID string
	// Status is ChargeCharged once Stripe took the money, "pending" while
	// an attempt is under way (or was cut short: whether Stripe charged is
	// then unknown until someone repeats it), "failed" after a decline.
	Status   string
	Refunded bool
	Outbox   int
}

// Payment record statuses that matter to the checks.
const (
	ChargeCharged = "charged"
	ChargePending = "pending"
)

// Snapshot is the services' state at one moment (each collection is read
// whole, one after another).
type Snapshot struct {
	At      time.Time
	Tickets map[string]Ticket // nil when the tickets database is not given
	Replica map[string]Ticket // orders' tickets; nil without the orders database
	Orders  map[string]Order  // nil without the orders database
	// PayOrders and Charges are nil without the payments database.
	PayOrders map[string]PaymentOrder
	Charges   []Charge
}

// Take reads every collection the checks judge.
func Take(ctx context.Context, dbs DBs, now time.Time) (Snapshot, error) {
	s := Snapshot{At: now}
	var err error
	if dbs.Tickets != nil {
		if s.Tickets, err = readTickets(ctx, dbs.Tickets.Collection(collTickets)); err != nil {
			return s, fmt.Errorf("read tickets: %w", err)
		}
	}
	if dbs.Orders != nil {
		if s.Replica, err = readTickets(ctx, dbs.Orders.Collection(collTickets)); err != nil {
			return s, fmt.Errorf("read orders' tickets: %w", err)
		}
		if s.Orders, err = readOrders(ctx, dbs.Orders.Collection(collOrders)); err != nil {
			return s, fmt.Errorf("read orders: %w", err)
		}
	}
	if dbs.Payments != nil {
		if s.PayOrders, err = readPaymentOrders(ctx, dbs.Payments.Collection(collOrders)); err != nil {
			return s, fmt.Errorf("read payments' orders: %w", err)
		}
		if s.Charges, err = readCharges(ctx, dbs.Payments); err != nil {
			return s, fmt.Errorf("read payments: %w", err)
		}
	}
	return s, nil
}

func readTickets(ctx context.Context, coll *mongo.Collection) (map[string]Ticket, error) {
	var docs []struct {
		ID      primitive.ObjectID `bson:"_id"`
		Title   string             `bson:"title"`
		Price   float64            `bson:"price"`
		Version int64              `bson:"version"`
		OrderID string             `bson:"orderId"`
		Outbox  []bson.Raw         `bson:"outbox"`
	}
	if err := readAll(ctx, coll, &docs); err != nil {
		return nil, err
	}
	out := make(map[string]Ticket, len(docs))
	for _, d := range docs {
		out[d.ID.Hex()] = Ticket{ID: d.ID.Hex(), Title: d.Title, Price: d.Price, Version: d.Version, OrderID: d.OrderID, Outbox: len(d.Outbox)}
	}
	return out, nil
}

func readOrders(ctx context.Context, coll *mongo.Collection) (map[string]Order, error) {
	var docs []struct {
		ID        primitive.ObjectID `bson:"_id"`
		Status    string             `bson:"status"`
		ExpiresAt time.Time          `bson:"expiresAt"`
		Version   int64              `bson:"version"`
		Ticket    struct {
			ID primitive.ObjectID `bson:"id"`
		} `bson:"ticket"`
		Outbox []bson.Raw `bson:"outbox"`
	}
	if err := readAll(ctx, coll, &docs); err != nil {
		return nil, err
	}
	out := make(map[string]Order, len(docs))
	for _, d := range docs {
		out[d.ID.Hex()] = Order{ID: d.ID.Hex(), TicketID: d.Ticket.ID.Hex(), Status: d.Status,
			ExpiresAt: d.ExpiresAt, Version: d.Version, Outbox: len(d.Outbox)}
	}
	return out, nil
}

func readPaymentOrders(ctx context.Context, coll *mongo.Collection) (map[string]PaymentOrder, error) {
	var docs []struct {
		ID      primitive.ObjectID `bson:"_id"`
		Status  string             `bson:"status"`
		Version int64              `bson:"version"`
		Outbox  []bson.Raw         `bson:"outbox"`
	}
	if err := readAll(ctx, coll, &docs); err != nil {
		return nil, err
	}
	out := make(map[string]PaymentOrder, len(docs))
	for _, d := range docs {
		out[d.ID.Hex()] = PaymentOrder{ID: d.ID.Hex(), Status: d.Status, Version: d.Version, Outbox: len(d.Outbox)}
	}
	return out, nil
}

func readCharges(ctx context.Context, db *mongo.Database) ([]Charge, error) {
	var docs []struct {
		ID      primitive.ObjectID `bson:"_id"`
		OrderID string             `bson:"orderId"`
		Status  string             `bson:"status"`
		Refund  *struct {
			ID string `bson:"id"`
		} `bson:"refund"`
		Outbox []bson.Raw `bson:"outbox"`
	}
	if err := readAll(ctx, db.Collection(collPayments), &docs); err != nil {
		return nil, err
	}
	out := make([]Charge, 0, len(docs))
	for _, d := range docs {
		out = append(out, Charge{ID: d.ID.Hex(), OrderID: d.OrderID, Status: d.Status, Refunded: d.Refund != nil, Outbox: len(d.Outbox)})
	}
	return out, nil
}

func readAll(ctx context.Context, coll *mongo.Collection, out any) error {
	cur, err := coll.Find(ctx, bson.M{})
	if err != nil {
		return err
	}
	return cur.All(ctx, out)
}
