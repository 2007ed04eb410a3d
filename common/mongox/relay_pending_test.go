package mongox_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"

	"github.com/ticketing/common/mongox"
	"github.com/ticketing/common/testkit"
)

// A record whose publish failed is tried again from the relay's memory:
// with an hour between sweeps, nothing else could send it in time.
func TestRelayRetriesFailedRecordWithoutSweep(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fails int32 // publishes refused before the bus is back
	}{
		{"one failure", 1},
		{"several failures, backing off", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			coll := testkit.MongoDB(t).Collection("tickets")
			var refused atomic.Int32
			pub := &recorder{fail: func(int, string, []byte) error {
				if refused.Add(1) <= tt.fails {
					return errors.New("nats: connection closed")
				}
				return nil
			}}
			relay := mongox.NewRelay(coll, pub, testLogger(t), mongox.RelayOptions{
				SweepInterval: time.Hour, RetryInterval: 10 * time.Millisecond,
			})
			runRelay(t, relay)

			id := insertWithEvents(t, coll, 2)
			relay.Notify(id.Hex())
			require.Eventually(t, func() bool { return pendingCount(t, coll) == 0 }, waitFor, tick)
			assert.Equal(t, upTo(2), versionsOf(t, pub.messages(), id), "each event once, in order")
			assert.GreaterOrEqual(t, refused.Load(), tt.fails+3)
		})
	}
}

// A relay that dies holding a failed record in memory leaves it pending;
// another process's relay finds it with its periodic sweep, without being
// told.
func TestRelayPeriodicSweepFindsRecordLeftByAnotherRelay(t *testing.T) {
	t.Parallel()
	coll := testkit.MongoDB(t).Collection("tickets")

	// The survivor starts first: its start-up sweep finds nothing.
	pub := &recorder{}
	runRelay(t, mongox.NewRelay(coll, pub, testLogger(t), mongox.RelayOptions{
		SweepInterval: 50 * time.Millisecond, RetryInterval: time.Hour,
	}))

	// The other relay is told about the record, fails to publish it and
	// stops, with the retry still in its memory.
	attempted := make(chan struct{}, 1)
	dying := &recorder{fail: func(int, string, []byte) error {
		select {
		case attempted <- struct{}{}:
		default:
		}
		return errors.New("nats: connection closed")
	}}
	other := mongox.NewRelay(coll, dying, testLogger(t), mongox.RelayOptions{SweepInterval: time.Hour, RetryInterval: time.Hour})
	stopOther := runRelay(t, other)
	id := insertWithEvents(t, coll, 1)
	other.Notify(id.Hex())
	<-attempted
	stopOther()

	require.Eventually(t, func() bool { return pendingCount(t, coll) == 0 }, waitFor, tick)
	assert.Equal(t, upTo(1), versionsOf(t, pub.messages(), id))
	assert.Empty(t, dying.messages())
}

// The relay indexes the pending records only, and a record leaves that
// index in the same update that removes its last event: the outbox field
// goes with it. An event appended meanwhile keeps the record pending.
func TestRelayClearsPendingMarkerWhenOutboxEmpties(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	coll := testkit.MongoDB(t).Collection("tickets")
	pub := &recorder{}
	relay := mongox.NewRelay(coll, pub, testLogger(t), mongox.RelayOptions{SweepInterval: time.Hour})
	runRelay(t, relay)

	specs := func() map[string]bool {
		list, err := coll.Indexes().ListSpecifications(ctx)
		require.NoError(t, err)
		out := map[string]bool{}
		for _, s := range list {
			out[s.Name] = true
		}
		return out
	}
	require.Eventually(t, func() bool { return specs()[mongox.PendingIndex] }, waitFor, tick, "the relay creates its index")

	tests := []struct {
		name   string
		events int
	}{
		{"one event", 0},
		{"several events", 3},
	}
	for _, tt := range tests {
		id := insertWithEvents(t, coll, tt.events)
		require.Contains(t, rawDoc(t, coll, id), "outbox", tt.name)
		relay.Notify(id.Hex())
		require.Eventually(t, func() bool {
			_, pending := rawDoc(t, coll, id)["outbox"]
			return !pending
		}, waitFor, tick, "%s: the outbox field is removed with the last event", tt.name)
		assert.Equal(t, upTo(tt.events), versionsOf(t, pub.messages(), id), tt.name)
		n, err := coll.CountDocuments(ctx, bson.M{"_id": id, "outbox.0": bson.M{"$exists": true}})
		require.NoError(t, err)
		assert.Zero(t, n, tt.name)
	}
}
