package check_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/ticketing/tools/loadgen/check"
)

// Take reads the pending events of every record kind it judges, so that the
// outbox check can fail: a record with an event left counts it.
func TestTakeCountsPendingEvents(t *testing.T) {
	uri := os.Getenv("TEST_MONGO_URI")
	if uri == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TEST_MONGO_URI not set under CI=true; run via make test")
		}
		t.Skip("TEST_MONGO_URI not set")
	}
	ctx := context.Background()
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(uri))
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Disconnect(ctx) })
	name := func(svc string) *mongo.Database {
		db := client.Database("snapshot_" + svc + "_" + primitive.NewObjectID().Hex())
		t.Cleanup(func() { _ = db.Drop(ctx) })
		return db
	}
	dbs := check.DBs{Tickets: name("tickets"), Orders: name("orders"), Payments: name("payments")}
	pending := bson.A{bson.M{"id": "e1", "subject": "ticket:updated", "data": "{}"}}
	sent, left := primitive.NewObjectID(), primitive.NewObjectID()
	_, err = dbs.Tickets.Collection("tickets").InsertMany(ctx, []any{
		bson.M{"_id": sent, "title": "a", "price": 1, "version": 0},
		bson.M{"_id": left, "title": "b", "price": 1, "version": 1, "outbox": pending},
	})
	require.NoError(t, err)
	order := primitive.NewObjectID()
	_, err = dbs.Orders.Collection("orders").InsertOne(ctx, bson.M{"_id": order, "status": "created", "version": 0,
		"expiresAt": time.Now(), "ticket": bson.M{"id": left}, "outbox": pending})
	require.NoError(t, err)
	_, err = dbs.Payments.Collection("payments").InsertOne(ctx, bson.M{"_id": order, "orderId": order.Hex(),
		"status": "charged", "outbox": pending})
	require.NoError(t, err)

	s, err := check.Take(ctx, dbs, time.Now())
	require.NoError(t, err)
	assert.Equal(t, 0, s.Tickets[sent.Hex()].Outbox)
	assert.Equal(t, 1, s.Tickets[left.Hex()].Outbox)
	assert.Equal(t, 1, s.Orders[order.Hex()].Outbox)
	require.Len(t, s.Charges, 1)
	assert.Equal(t, 1, s.Charges[0].Outbox)
	assert.Equal(t, 3, check.Outboxes(s).Failures, "the check fails on them")
}
