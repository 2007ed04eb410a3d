package mongox_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/mongox"
	"github.com/ticketing/common/testkit"
)

func TestUpdateVersionedApplies(t *testing.T) {
	t.Parallel()
	db := testkit.MongoDB(t)
	ctx := context.Background()

	id := primitive.NewObjectID()
	created := event(t, "ticket:created", id, 0)
	updated := event(t, "ticket:updated", id, 1)
	second := event(t, "ticket:updated", id, 1)

	tests := []struct {
		name   string
		start  ticket
		change mongox.Change
		want   ticket
	}{
		{
			name:   "set only bumps the version and adds no outbox",
			start:  ticket{Version: 0, Title: "a", Price: 10},
			change: mongox.Change{Set: bson.M{"title": "b"}},
			want:   ticket{Version: 1, Title: "b", Price: 10},
		},
		{
			name:  "set, unset and events in one write",
			start: ticket{Version: 0, Title: "a", Price: 10, OrderID: "o1", Outbox: []mongox.OutboxEvent{created}},
			change: mongox.Change{
				Set:    bson.M{"title": "b", "price": 20.5},
				Unset:  []string{"orderId"},
				Events: []mongox.OutboxEvent{updated},
			},
			want: ticket{Version: 1, Title: "b", Price: 20.5, Outbox: []mongox.OutboxEvent{created, updated}},
		},
		{
			name:   "events appended after pending ones, in order",
			start:  ticket{Version: 0, Title: "a", Outbox: []mongox.OutboxEvent{created}},
			change: mongox.Change{Events: []mongox.OutboxEvent{updated, second}},
			want:   ticket{Version: 1, Title: "a", Outbox: []mongox.OutboxEvent{created, updated, second}},
		},
		{
			name:   "events onto a record with no outbox field",
			start:  ticket{Version: 0, Title: "a"},
			change: mongox.Change{Events: []mongox.OutboxEvent{updated}},
			want:   ticket{Version: 1, Title: "a", Outbox: []mongox.OutboxEvent{updated}},
		},
		{
			name:   "unset only",
			start:  ticket{Version: 0, Title: "a", OrderID: "o1"},
			change: mongox.Change{Unset: []string{"orderId"}},
			want:   ticket{Version: 1, Title: "a"},
		},
		{
			name:   "from a later version",
			start:  ticket{Version: 41, Title: "a"},
			change: mongox.Change{Set: bson.M{"title": "z"}},
			want:   ticket{Version: 42, Title: "z"},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			coll := db.Collection("tickets")
			tt.start.ID = primitive.NewObjectID()
			_, err := coll.InsertOne(ctx, tt.start)
			require.NoError(t, err)

			require.NoError(t, mongox.UpdateVersioned(ctx, coll, tt.start.ID, tt.start.Version, tt.change), "case %d", i)

			tt.want.ID = tt.start.ID
			assert.Equal(t, tt.want, findTicket(t, coll, tt.start.ID))
			if tt.change.Unset != nil {
				assert.NotContains(t, rawDoc(t, coll, tt.start.ID), "orderId", "unset removes the field, not just empties it")
			}
		})
	}
}

func TestUpdateVersionedConflict(t *testing.T) {
	t.Parallel()
	db := testkit.MongoDB(t)
	ctx := context.Background()
	coll := db.Collection("tickets")

	pending := event(t, "ticket:updated", primitive.NewObjectID(), 3)
	stored := ticket{ID: primitive.NewObjectID(), Version: 3, Title: "a", OrderID: "o1", Outbox: []mongox.OutboxEvent{pending}}
	_, err := coll.InsertOne(ctx, stored)
	require.NoError(t, err)
	before := rawDoc(t, coll, stored.ID)

	change := mongox.Change{
		Set:    bson.M{"title": "b"},
		Unset:  []string{"orderId"},
		Events: []mongox.OutboxEvent{event(t, "ticket:updated", stored.ID, 4)},
	}
	tests := []struct {
		name    string
		id      primitive.ObjectID
		version int64
	}{
		{"stale version", stored.ID, 2},
		{"version from the future", stored.ID, 4},
		{"unknown id", primitive.NewObjectID(), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mongox.UpdateVersioned(ctx, coll, tt.id, tt.version, change)
			require.Error(t, err)
			assert.ErrorIs(t, err, errs.ErrConflict)
			assert.Equal(t, before, rawDoc(t, coll, stored.ID), "a miss must write nothing")
		})
	}
}

// A request whose client gave up still finishes a write it started, so the
// write's events are stored before the caller wakes the relay (a cancelled
// context used to return at once while the store went on to apply the
// update, and the relay, woken too early, found nothing).
func TestUpdateVersionedFinishesWhenTheRequestIsCancelled(t *testing.T) {
	t.Parallel()
	db := testkit.MongoDB(t)
	coll := db.Collection("tickets")
	stored := ticket{ID: primitive.NewObjectID(), Version: 3, Title: "a"}
	_, err := coll.InsertOne(context.Background(), stored)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the client is gone before the write is sent
	ev := event(t, "ticket:updated", stored.ID, 4)
	require.NoError(t, mongox.UpdateVersioned(ctx, coll, stored.ID, 3, mongox.Change{
		Set: bson.M{"title": "b"}, Events: []mongox.OutboxEvent{ev},
	}))
	var got ticket
	require.NoError(t, coll.FindOne(context.Background(), bson.M{"_id": stored.ID}).Decode(&got))
	assert.Equal(t, int64(4), got.Version)
	assert.Equal(t, []mongox.OutboxEvent{ev}, got.Outbox, "the event is stored when the call returns")
}

// On FerretDB this holds only with one connection per client
// (maxPoolSize=1, as infra/local hands out): its SQLite storage does not make
// a filtered update atomic across connections.
func TestUpdateVersionedRaceHasOneWinner(t *testing.T) {
	t.Parallel()
	db := testkit.MongoDB(t)
	ctx := context.Background()
	coll := db.Collection("tickets")

	const rounds, racers = 10, 8
	id := primitive.NewObjectID()
	_, err := coll.InsertOne(ctx, ticket{ID: id, Version: 0, Title: "start"})
	require.NoError(t, err)

	for round := int64(0); round < rounds; round++ {
		var (
			wg        sync.WaitGroup
			mu        sync.Mutex
			winners   []int
			conflicts int
			others    []error
		)
		start := make(chan struct{})
		for g := 0; g < racers; g++ {
			wg.Go(func() {
				<-start
				ev, err := mongox.NewOutboxEvent("ticket:updated", map[string]int{"racer": g})
				if err != nil {
					panic(err)
				}
				err = mongox.UpdateVersioned(ctx, coll, id, round, mongox.Change{
					Set:    bson.M{"title": "racer", "winner": g},
					Events: []mongox.OutboxEvent{ev},
				})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					winners = append(winners, g)
				case errors.Is(err, errs.ErrConflict):
					conflicts++
				default:
					others = append(others, err)
				}
			})
		}
		close(start)
		wg.Wait()

		require.Empty(t, others, "round %d", round)
		require.Len(t, winners, 1, "round %d: exactly one racer wins", round)
		require.Equal(t, racers-1, conflicts, "round %d", round)

		var got struct {
			Version int64                `bson:"version"`
			Winner  int                  `bson:"winner"`
			Outbox  []mongox.OutboxEvent `bson:"outbox"`
		}
		require.NoError(t, coll.FindOne(ctx, bson.M{"_id": id}).Decode(&got))
		require.Equal(t, round+1, got.Version)
		require.Equal(t, winners[0], got.Winner)
		require.Len(t, got.Outbox, int(round+1), "only the winner's event is stored")
	}
}

func TestUpdateVersionedDuplicateKeyIsNotAConflict(t *testing.T) {
	t.Parallel()
	db := testkit.MongoDB(t)
	ctx := context.Background()
	coll := db.Collection("orders")
	require.NoError(t, mongox.EnsureIndexes(ctx, coll, mongo.IndexModel{
		Keys:    bson.D{{Key: "ticketHold", Value: 1}},
		Options: options.Index().SetUnique(true),
	}))

	a, b := primitive.NewObjectID(), primitive.NewObjectID()
	_, err := coll.InsertMany(ctx, []any{
		bson.M{"_id": a, "version": int64(0), "ticketHold": "t1"},
		bson.M{"_id": b, "version": int64(0), "ticketHold": "free-b"},
	})
	require.NoError(t, err)
	before := rawDoc(t, coll, b)

	err = mongox.UpdateVersioned(ctx, coll, b, 0, mongox.Change{
		Set:    bson.M{"ticketHold": "t1"},
		Events: []mongox.OutboxEvent{event(t, "order:created", b, 1)},
	})
	require.Error(t, err)
	assert.True(t, mongox.IsDuplicateKey(err), "got %v", err)
	assert.NotErrorIs(t, err, errs.ErrConflict)
	assert.Equal(t, before, rawDoc(t, coll, b), "a refused update writes nothing, events included")
}

// Bad changes are refused before anything is sent, so no server is needed:
// the client below never connects.
func TestUpdateVersionedRejectsBadChanges(t *testing.T) {
	t.Parallel()
	client, err := mongo.Connect(context.Background(), options.Client().ApplyURI("mongodb://127.0.0.1:1"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	coll := client.Database("none").Collection("none")

	ok := event(t, "ticket:updated", primitive.NewObjectID(), 1)
	tests := []struct {
		name   string
		change mongox.Change
	}{
		{"set version", mongox.Change{Set: bson.M{"version": 7}}},
		{"set _id", mongox.Change{Set: bson.M{"_id": 1}}},
		{"set outbox", mongox.Change{Set: bson.M{"outbox": bson.A{}}}},
		{"set inside outbox", mongox.Change{Set: bson.M{"outbox.0.data": "x"}}},
		{"unset version", mongox.Change{Unset: []string{"version"}}},
		{"unset outbox", mongox.Change{Unset: []string{"outbox"}}},
		{"empty field", mongox.Change{Set: bson.M{"": 1}}},
		{"set and unset one field", mongox.Change{Set: bson.M{"a": 1}, Unset: []string{"a"}}},
		{"unset inside a set field", mongox.Change{Set: bson.M{"a": bson.M{}}, Unset: []string{"a.b"}}},
		{"event without id", mongox.Change{Events: []mongox.OutboxEvent{ok, {Subject: "s", Data: "{}"}}}},
		{"event without subject", mongox.Change{Events: []mongox.OutboxEvent{{ID: "x", Data: "{}"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mongox.UpdateVersioned(context.Background(), coll, primitive.NewObjectID(), 0, tt.change)
			require.Error(t, err)
			assert.NotErrorIs(t, err, errs.ErrConflict)
		})
	}
}
