package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/testkit"
	"github.com/ticketing/services/orders/internal/order"
	"github.com/ticketing/services/orders/internal/store"
)

func oid() string { return primitive.NewObjectID().Hex() }

// The reservation index on FerretDB: one active order per ticket, any
// number of cancelled ones, and a cancel frees the ticket.
func TestReservationIndex(t *testing.T) {
	ctx := context.Background()
	db := testkit.MongoDB(t)
	s := store.NewOrders(db, nil)
	require.NoError(t, s.EnsureIndexes(ctx))
	require.NoError(t, s.EnsureIndexes(ctx), "a restart ensures the same indexes again")

	ticket := order.Ticket{ID: oid(), Title: "t", Price: 5}
	newOrder := func() order.Order { return order.New(oid(), oid(), ticket, time.Now(), time.Minute) }
	cancel := func(o order.Order) order.Order {
		next, changed, err := o.Cancel()
		require.NoError(t, err)
		require.True(t, changed)
		require.NoError(t, s.Transition(ctx, o, next, next.CancelledEvent()))
		return next
	}

	first := newOrder()
	require.NoError(t, s.Insert(ctx, first, first.CreatedEvent()))
	second := newOrder()
	assert.ErrorIs(t, s.Insert(ctx, second, second.CreatedEvent()), order.ErrTicketReserved)

	cancel(first)
	require.NoError(t, s.Insert(ctx, second, second.CreatedEvent()), "the cancel freed the ticket")
	cancel(second)
	third := newOrder()
	require.NoError(t, s.Insert(ctx, third), "two cancelled orders of one ticket coexist")
	paid, _ := third.Complete()
	require.NoError(t, s.Transition(ctx, third, paid))
	assert.ErrorIs(t, s.Insert(ctx, newOrder()), order.ErrTicketReserved, "a complete order holds the ticket")

	var doc struct {
		Reservation string   `bson:"reservation"`
		Outbox      []bson.M `bson:"outbox"`
	}
	require.NoError(t, s.Collection().FindOne(ctx, bson.M{"_id": mustOID(t, first.ID)}).Decode(&doc))
	assert.Equal(t, "cancelled:"+first.ID, doc.Reservation)
	require.Len(t, doc.Outbox, 2, "order:created and order:cancelled wait in the outbox")
	assert.Equal(t, "order:created", doc.Outbox[0]["subject"])
	assert.Equal(t, "order:cancelled", doc.Outbox[1]["subject"])
}

func TestTransitionIsVersioned(t *testing.T) {
	ctx := context.Background()
	db := testkit.MongoDB(t)
	s := store.NewOrders(db, nil)
	require.NoError(t, s.EnsureIndexes(ctx))
	o := order.New(oid(), oid(), order.Ticket{ID: oid(), Title: "t", Price: 5}, time.Now(), time.Minute)
	require.NoError(t, s.Insert(ctx, o))

	next, _, err := o.Cancel()
	require.NoError(t, err)
	require.NoError(t, s.Transition(ctx, o, next))
	assert.ErrorIs(t, s.Transition(ctx, o, next), errs.ErrConflict, "a stale version stores nothing")

	skip := next
	skip.Version += 2
	assert.Error(t, s.Transition(ctx, next, skip), "only one version up")

	got, err := s.Get(ctx, o.ID)
	require.NoError(t, err)
	assert.Equal(t, next, got, "stored as it was cancelled, expiresAt to the millisecond")
	_, err = s.Get(ctx, oid())
	assert.ErrorIs(t, err, errs.ErrNotFound)
}

func mustOID(t *testing.T, id string) primitive.ObjectID {
	t.Helper()
	o, err := primitive.ObjectIDFromHex(id)
	require.NoError(t, err)
	return o
}
