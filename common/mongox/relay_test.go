package mongox_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/common/mongox"
	"github.com/ticketing/common/testkit"
)

// insertWithEvents creates a ticket at version 0 whose outbox holds its
// created event, then n versioned updates each adding one event: the record
// ends at version n with events for versions 0..n pending.
func insertWithEvents(t *testing.T, coll *mongo.Collection, n int) primitive.ObjectID {
	t.Helper()
	ctx := context.Background()
	id := primitive.NewObjectID()
	_, err := coll.InsertOne(ctx, ticket{ID: id, Title: "t", Outbox: []mongox.OutboxEvent{event(t, "ticket:created", id, 0)}})
	require.NoError(t, err)
	for v := int64(0); v < int64(n); v++ {
		require.NoError(t, mongox.UpdateVersioned(ctx, coll, id, v, mongox.Change{
			Set:    bson.M{"title": fmt.Sprintf("t%d", v+1)},
			Events: []mongox.OutboxEvent{event(t, "ticket:updated", id, v+1)},
		}))
	}
	return id
}

func upTo(n int) []int64 {
	out := make([]int64, n+1)
	for i := range out {
		out[i] = int64(i)
	}
	return out
}

func TestRelayPublishesInOrderAndEmptiesOutbox(t *testing.T) {
	t.Parallel()
	db := testkit.MongoDB(t)
	coll := db.Collection("tickets")

	ids := []primitive.ObjectID{insertWithEvents(t, coll, 3), insertWithEvents(t, coll, 0), insertWithEvents(t, coll, 5)}
	// A record with nothing pending, and one whose outbox was emptied.
	idle := primitive.NewObjectID()
	_, err := coll.InsertOne(context.Background(), ticket{ID: idle, Title: "idle"})
	require.NoError(t, err)
	_, err = coll.InsertOne(context.Background(), bson.M{"_id": primitive.NewObjectID(), "version": int64(0), "outbox": bson.A{}})
	require.NoError(t, err)

	pub := &recorder{}
	// A long interval: only the start-up sweep can have sent these.
	runRelay(t, mongox.NewRelay(coll, pub, testLogger(t), mongox.RelayOptions{SweepInterval: time.Hour}))

	require.Eventually(t, func() bool { return pendingCount(t, coll) == 0 }, waitFor, tick)
	msgs := pub.messages()
	assert.Len(t, msgs, 4+1+6)
	for i, id := range ids {
		assert.Equal(t, upTo([]int{3, 0, 5}[i]), versionsOf(t, msgs, id), "record %d in stored order, each once", i)
	}
	for _, m := range msgs {
		assert.Contains(t, []string{"ticket:created", "ticket:updated"}, m.Subject)
	}
	assert.Equal(t, "ticket:created", msgs[0].Subject)
	got := findTicket(t, coll, ids[2])
	assert.Equal(t, int64(5), got.Version, "the relay leaves the record's version alone")
	assert.Equal(t, "t5", got.Title)
}

func TestRelayNotifyAndTimer(t *testing.T) {
	t.Parallel()
	sweep := func(r *mongox.Relay, _ primitive.ObjectID) {
		r.Notify()
		r.Notify() // coalesces, never blocks
	}
	tests := []struct {
		name     string
		interval time.Duration
		notify   func(*mongox.Relay, primitive.ObjectID)
	}{
		// With an hour-long interval only Notify can wake it in time.
		{"notify wakes it", time.Hour, sweep},
		{"notify names the record", time.Hour, func(r *mongox.Relay, id primitive.ObjectID) { r.Notify(id.Hex()) }},
		// A name that is no ObjectId cannot be read by _id: it sweeps.
		{"notify with a foreign id sweeps", time.Hour, func(r *mongox.Relay, _ primitive.ObjectID) { r.Notify("not-an-object-id") }},
		// Naming another record still finds nothing of this one; the sweep
		// asked for alongside does.
		{"notify of another record and a sweep", time.Hour, func(r *mongox.Relay, _ primitive.ObjectID) {
			r.Notify(primitive.NewObjectID().Hex())
			r.Notify()
		}},
		// Without Notify (a writer that crashed before calling it), the timer does.
		{"timer finds it", 50 * time.Millisecond, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := testkit.MongoDB(t)
			coll := db.Collection("tickets")
			pub := &recorder{}
			relay := mongox.NewRelay(coll, pub, testLogger(t), mongox.RelayOptions{SweepInterval: tt.interval})
			runRelay(t, relay)

			for round := 1; round <= 3; round++ {
				id := insertWithEvents(t, coll, 1)
				if tt.notify != nil {
					tt.notify(relay, id)
				}
				require.Eventually(t, func() bool { return pub.count() == 2*round }, waitFor, tick, "round %d", round)
				assert.Equal(t, upTo(1), versionsOf(t, pub.messages(), id))
			}
			require.Eventually(t, func() bool { return pendingCount(t, coll) == 0 }, waitFor, tick)
		})
	}
}

func TestRelayRetriesAfterFailedPublishAndKeepsOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fail func(attempt int) bool
	}{
		{"first attempts fail", func(a int) bool { return a <= 3 }},
		{"second event fails twice", func(a int) bool { return a == 2 || a == 3 }},
		{"every other attempt fails", func(a int) bool { return a%2 == 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := testkit.MongoDB(t)
			coll := db.Collection("tickets")
			id := insertWithEvents(t, coll, 3)
			other := insertWithEvents(t, coll, 2)

			pub := &recorder{fail: func(attempt int, _ string, _ []byte) error {
				if tt.fail(attempt) {
					return errors.New("nats: connection closed")
				}
				return nil
			}}
			logs := &logBuffer{}
			logger := slog.New(slog.NewTextHandler(logs, nil))
			runRelay(t, mongox.NewRelay(coll, pub, logger, mongox.RelayOptions{SweepInterval: 20 * time.Millisecond}))

			require.Eventually(t, func() bool { return pendingCount(t, coll) == 0 }, waitFor, tick)
			msgs := pub.messages()
			assert.Equal(t, upTo(3), versionsOf(t, msgs, id), "each event once, in order, despite the failures")
			assert.Equal(t, upTo(2), versionsOf(t, msgs, other))
			assert.Contains(t, logs.String(), "publish failed")
			assert.Contains(t, logs.String(), "nats: connection closed")
		})
	}
}

func TestRelayDrainsMoreThanOneBatch(t *testing.T) {
	t.Parallel()
	db := testkit.MongoDB(t)
	coll := db.Collection("tickets")
	const records = 23
	docs := make([]any, records)
	for i := range docs {
		id := primitive.NewObjectID()
		docs[i] = ticket{ID: id, Title: "t", Outbox: []mongox.OutboxEvent{event(t, "ticket:created", id, 0)}}
	}
	_, err := coll.InsertMany(context.Background(), docs)
	require.NoError(t, err)

	pub := &recorder{}
	runRelay(t, mongox.NewRelay(coll, pub, testLogger(t), mongox.RelayOptions{SweepInterval: time.Hour, BatchSize: 5}))

	require.Eventually(t, func() bool { return pub.count() == records }, waitFor, tick,
		"the start-up sweep goes on past the first batch without waiting for the timer")
	require.Equal(t, int64(0), pendingCount(t, coll))
}

// Events written while the relay is publishing an earlier one of the same
// record are neither lost nor sent before it.
func TestRelayKeepsEventsAddedWhilePublishing(t *testing.T) {
	t.Parallel()
	db := testkit.MongoDB(t)
	coll := db.Collection("tickets")
	id := insertWithEvents(t, coll, 0)

	var once sync.Once
	writeErr := make(chan error, 1)
	pub := &recorder{}
	pub.fail = func(_ int, _ string, _ []byte) error {
		once.Do(func() {
			writeErr <- mongox.UpdateVersioned(context.Background(), coll, id, 0, mongox.Change{
				Set:    bson.M{"title": "changed mid-publish"},
				Events: []mongox.OutboxEvent{event(t, "ticket:updated", id, 1)},
			})
		})
		return nil
	}
	relay := mongox.NewRelay(coll, pub, testLogger(t), mongox.RelayOptions{SweepInterval: time.Hour})
	runRelay(t, relay)
	require.NoError(t, <-writeErr)
	relay.Notify()

	require.Eventually(t, func() bool { return pendingCount(t, coll) == 0 }, waitFor, tick)
	assert.Equal(t, upTo(1), versionsOf(t, pub.messages(), id))
}

// Two relays on one collection (two replicas of a service) may both send an
// event, but none is lost, the outbox empties, and a versioned replica ends
// up with every record's last version.
func TestRelayTwoRelaysAtLeastOnce(t *testing.T) {
	t.Parallel()
	db := testkit.MongoDB(t)
	coll := db.Collection("tickets")
	var ids []primitive.ObjectID
	for range 5 {
		ids = append(ids, insertWithEvents(t, coll, 4))
	}

	sub := newReplica()
	var mu sync.Mutex // one subscriber, messages in the order they reach it
	pub := &recorder{onPub: func(m message) {
		mu.Lock()
		defer mu.Unlock()
		require.NoError(t, sub.handle(m.Data))
	}}
	for range 2 {
		runRelay(t, mongox.NewRelay(coll, pub, testLogger(t), mongox.RelayOptions{SweepInterval: 20 * time.Millisecond}))
	}

	require.Eventually(t, func() bool { return pendingCount(t, coll) == 0 }, waitFor, tick)
	versions, applied, _, _ := sub.snapshot()
	for _, id := range ids {
		assert.Equal(t, int64(4), versions[id.Hex()])
	}
	assert.Equal(t, 5*5, applied, "every event applied exactly once")
	assert.GreaterOrEqual(t, pub.count(), 5*5)
}

// blocker is a Publisher that never gets an ack: it holds every publish until
// its context ends, as a process does that is killed mid-publish. deliver
// says whether the message reached the subscriber before the hang (killed
// after the send, before the removal) or not (killed before the send).
type blocker struct {
	deliver func(data []byte)
	entered chan struct{}
	once    sync.Once
}

func (b *blocker) Publish(ctx context.Context, _ string, data []byte) error {
	if b.deliver != nil {
		b.deliver(data)
	}
	b.once.Do(func() { close(b.entered) })
	<-ctx.Done()
	return ctx.Err()
}

// The crash tests: a relay is stopped ("killed") while it holds an event, a
// new relay (the restarted process) takes over, and a subscriber that
// deduplicates by version applies the event exactly once.
func TestRelayCrash(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// sentBeforeCrash: the killed relay's message reached the subscriber.
		sentBeforeCrash bool
		wantDeliveries  int
	}{
		{"killed before the publish", false, 1},
		{"killed after the publish, before the removal", true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := testkit.MongoDB(t)
			coll := db.Collection("tickets")
			ctx := context.Background()

			// The record at version 1 with its update's event still pending.
			id := primitive.NewObjectID()
			_, err := coll.InsertOne(ctx, ticket{ID: id, Version: 0, Title: "a"})
			require.NoError(t, err)
			sub := newReplica()
			require.NoError(t, sub.handle(fmt.Appendf(nil, `{"id":%q,"version":0}`, id.Hex())), "the replica holds version 0")
			require.NoError(t, mongox.UpdateVersioned(ctx, coll, id, 0, mongox.Change{
				Set:    bson.M{"title": "b"},
				Events: []mongox.OutboxEvent{event(t, "ticket:updated", id, 1)},
			}))

			var (
				countMu sync.Mutex
				count   int
			)
			deliver := func(data []byte) {
				countMu.Lock()
				count++
				countMu.Unlock()
				require.NoError(t, sub.handle(data))
			}

			b := &blocker{entered: make(chan struct{})}
			if tt.sentBeforeCrash {
				b.deliver = deliver
			}
			stop := runRelay(t, mongox.NewRelay(coll, b, testLogger(t), mongox.RelayOptions{SweepInterval: time.Hour, PublishTimeout: time.Hour}))
			select {
			case <-b.entered:
			case <-time.After(waitFor):
				t.Fatal("the first relay never tried to publish")
			}
			stop() // the kill
			require.Len(t, findTicket(t, coll, id).Outbox, 1, "an unacknowledged event stays pending")

			restarted := &recorder{onPub: func(m message) { deliver(m.Data) }}
			stop2 := runRelay(t, mongox.NewRelay(coll, restarted, testLogger(t), mongox.RelayOptions{SweepInterval: time.Hour}))
			require.Eventually(t, func() bool { return pendingCount(t, coll) == 0 }, waitFor, tick)
			stop2()

			versions, applied, repeats, gaps := sub.snapshot()
			assert.Equal(t, int64(1), versions[id.Hex()])
			assert.Equal(t, 2, applied, "version 0 and the pending version 1, each applied once")
			assert.Equal(t, 0, gaps)
			countMu.Lock()
			assert.Equal(t, tt.wantDeliveries, count, "messages that reached the subscriber")
			countMu.Unlock()
			assert.Equal(t, tt.wantDeliveries-1, repeats, "a redelivery is recognised by its version")
			assert.Equal(t, 1, restarted.count(), "the restarted relay sends the pending event once")
		})
	}
}

// An event stored without an id could never be removed safely; the relay
// must not send it over and over, and must not skip past it either.
func TestRelayStopsAtEventWithoutID(t *testing.T) {
	t.Parallel()
	db := testkit.MongoDB(t)
	coll := db.Collection("tickets")
	id := primitive.NewObjectID()
	good := event(t, "ticket:updated", id, 1)
	_, err := coll.InsertOne(context.Background(), bson.M{
		"_id": id, "version": int64(1),
		"outbox": bson.A{bson.M{"subject": "ticket:created", "data": "{}"}, good},
	})
	require.NoError(t, err)
	healthy := insertWithEvents(t, coll, 0)

	logs := &logBuffer{}
	pub := &recorder{}
	runRelay(t, mongox.NewRelay(coll, pub, slog.New(slog.NewTextHandler(logs, nil)), mongox.RelayOptions{SweepInterval: 10 * time.Millisecond}))

	require.Eventually(t, func() bool { return strings.Count(logs.String(), "has no id") >= 3 }, waitFor, tick,
		"several sweeps went by")
	assert.Equal(t, upTo(0), versionsOf(t, pub.messages(), healthy), "other records are not held up")
	assert.Empty(t, versionsOf(t, pub.messages(), id), "nothing of the stuck record is sent, so its order holds")
	assert.Len(t, findTicket(t, coll, id).Outbox, 2)
}

// Records named together go out side by side, each record's events still in
// order.
func TestRelaySendsNamedRecordsSideBySide(t *testing.T) {
	t.Parallel()
	db := testkit.MongoDB(t)
	coll := db.Collection("tickets")

	var inFlight, most atomic.Int32
	second := make(chan struct{})
	var once sync.Once
	pub := &recorder{}
	pub.fail = func(_ int, _ string, _ []byte) error {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		if n >= 2 {
			once.Do(func() { close(second) })
		}
		// Hold the first publish until another runs beside it; a relay
		// that sends one record at a time never gets there.
		select {
		case <-second:
		case <-time.After(500 * time.Millisecond):
		}
		return nil
	}
	relay := mongox.NewRelay(coll, pub, testLogger(t), mongox.RelayOptions{SweepInterval: time.Hour, Workers: 3})
	// The first sweep (one record at a time) sends what is stored when the
	// relay starts: one record, whose event being out shows the sweep has
	// read the collection, so that only the Notify below sends the rest.
	first := insertWithEvents(t, coll, 0)
	runRelay(t, relay)
	require.Eventually(t, func() bool { return len(versionsOf(t, pub.messages(), first)) == 1 }, waitFor, tick)
	var ids []primitive.ObjectID
	var names []string
	for range 12 {
		id := insertWithEvents(t, coll, 2)
		ids = append(ids, id)
		names = append(names, id.Hex())
	}
	relay.Notify(names...)

	require.Eventually(t, func() bool { return pendingCount(t, coll) == 0 }, waitFor, tick)
	assert.GreaterOrEqual(t, most.Load(), int32(2), "records were sent side by side")
	assert.LessOrEqual(t, most.Load(), int32(3), "never more at once than Workers")
	for _, id := range ids {
		assert.Equal(t, upTo(2), versionsOf(t, pub.messages(), id), "record %s in order", id.Hex())
	}
}
