package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/testkit"
	"github.com/ticketing/services/payments/internal/payment"
	"github.com/ticketing/services/payments/internal/store"
)

func newStores(t *testing.T) (*mongo.Database, *store.Orders, *store.Payments) {
	t.Helper()
	db := testkit.MongoDB(t)
	payments := store.NewPayments(db, nil)
	require.NoError(t, payments.EnsureIndexes(context.Background()))
	return db, store.NewOrders(db), payments
}

// An order's payment record is found whether it is named by its order (the
// rule since payment.PaymentID) or has an id of its own (written before),
// and an order without one reads as not found.
func TestGetByOrder(t *testing.T) {
	ctx := context.Background()
	db, orders, payments := newStores(t)
	expires := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	newOrder := func(t *testing.T) payment.Order {
		t.Helper()
		o := payment.Order{ID: primitive.NewObjectID().Hex(), UserID: "u1", Price: 20, Status: "created", ExpiresAt: expires}
		applied, err := orders.ApplyCreated(ctx, o)
		require.NoError(t, err)
		require.True(t, applied)
		return o
	}
	// A record as written before payments were named by their orders:
	// an order replica without the mark, a payment with an id of its own.
	legacy := func(t *testing.T, withReplica bool) string {
		t.Helper()
		orderID := primitive.NewObjectID()
		if withReplica {
			_, err := db.Collection(store.OrdersCollection).InsertOne(ctx, bson.M{
				"_id": orderID, "version": 0, "userId": "u1", "price": 20, "status": "created", "expiresAt": expires,
			})
			require.NoError(t, err)
		}
		_, err := db.Collection(store.PaymentsCollection).InsertOne(ctx, bson.M{
			"_id": primitive.NewObjectID(), "orderId": orderID.Hex(), "version": 0, "status": "charged",
			"attempt": 0, "amount": 2000, "stripeId": "ch_1", "createdAt": expires,
		})
		require.NoError(t, err)
		return orderID.Hex()
	}

	tests := []struct {
		name     string
		orderID  func(t *testing.T) string
		wantErr  error
		wantByID bool
	}{
		{"named by its order", func(t *testing.T) string {
			o := newOrder(t)
			require.NoError(t, payments.Insert(ctx, payment.NewAttempt(o, "tok_visa", payment.Lease{Owner: "me", Until: expires})))
			return o.ID
		}, nil, true},
		{"an order without a payment", func(t *testing.T) string { return newOrder(t).ID }, errs.ErrNotFound, false},
		{"an order nobody heard of", func(*testing.T) string { return primitive.NewObjectID().Hex() }, errs.ErrNotFound, false},
		{"written before, replica unmarked", func(t *testing.T) string { return legacy(t, true) }, nil, false},
		{"written before, no replica", func(t *testing.T) string { return legacy(t, false) }, nil, false},
		{"not an id", func(*testing.T) string { return "nope" }, errs.ErrNotFound, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orderID := tt.orderID(t)
			p, err := payments.GetByOrder(ctx, orderID)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, orderID, p.OrderID)
			assert.Equal(t, tt.wantByID, p.ID == orderID, "payment id %s, order %s", p.ID, orderID)
		})
	}
}

// One record per order: a second attempt to create one is refused, also
// when the first was written before payments were named by their orders.
func TestInsertRefusesASecondRecord(t *testing.T) {
	ctx := context.Background()
	db, orders, payments := newStores(t)
	o := payment.Order{ID: primitive.NewObjectID().Hex(), UserID: "u1", Price: 20, Status: "created", ExpiresAt: time.Now().Add(time.Minute)}
	_, err := orders.ApplyCreated(ctx, o)
	require.NoError(t, err)
	lease := payment.Lease{Owner: "me", Until: time.Now().Add(time.Minute)}

	require.NoError(t, payments.Insert(ctx, payment.NewAttempt(o, "tok_visa", lease)))
	require.ErrorIs(t, payments.Insert(ctx, payment.NewAttempt(o, "tok_visa", lease)), payment.ErrPaymentExists)

	old := primitive.NewObjectID().Hex()
	_, err = db.Collection(store.PaymentsCollection).InsertOne(ctx, bson.M{
		"_id": primitive.NewObjectID(), "orderId": old, "version": 0, "status": "failed", "attempt": 0, "amount": 2000,
	})
	require.NoError(t, err)
	require.ErrorIs(t, payments.Insert(ctx, payment.NewAttempt(payment.Order{ID: old, Price: 20}, "tok_visa", lease)),
		payment.ErrPaymentExists, "the unique orderId index still guards records written before")
}
