package mongox_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/stan.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/ticketing/common/events"
	"github.com/ticketing/common/mongox"
	"github.com/ticketing/common/testkit"
)

// killedAfterSend publishes for real, then hangs as a process does that dies
// before the ack reaches the relay: the event is out but stays pending.
type killedAfterSend struct {
	pub     mongox.Publisher
	entered chan struct{}
	once    sync.Once
}

func (k *killedAfterSend) Publish(ctx context.Context, subject string, data []byte) error {
	if err := k.pub.Publish(ctx, subject, data); err != nil {
		return err
	}
	k.once.Do(func() { close(k.entered) })
	<-ctx.Done()
	return ctx.Err()
}

// The crash test over a real (in-process) NATS Streaming server: the event
// reaches a stan subscriber that deduplicates by version, which applies it
// exactly once.
func TestRelayCrashOverNATS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
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
			srv := testkit.NATS(t)
			pub := events.NewPublisher(srv.Connect(t))

			sub := newReplica()
			var (
				mu         sync.Mutex
				deliveries int
				sentinel   bool
			)
			sc, err := stan.Connect(testkit.NATSClusterID, testkit.UniqueClientID(t), stan.NatsURL(srv.URL()))
			require.NoError(t, err)
			t.Cleanup(func() { _ = sc.Close() })
			s, err := sc.Subscribe("ticket:updated", func(m *stan.Msg) {
				mu.Lock()
				defer mu.Unlock()
				if string(m.Data) == `"sentinel"` {
					sentinel = true
					return
				}
				deliveries++
				if err := sub.handle(m.Data); err != nil {
					t.Errorf("subscriber: %v", err)
				}
			}, stan.DeliverAllAvailable())
			require.NoError(t, err)
			t.Cleanup(func() { _ = s.Close() })

			id := primitive.NewObjectID()
			_, err = coll.InsertOne(ctx, ticket{ID: id, Version: 0, Title: "a"})
			require.NoError(t, err)
			require.NoError(t, sub.handle(fmt.Appendf(nil, `{"id":%q,"version":0}`, id.Hex())), "the replica holds version 0")
			require.NoError(t, mongox.UpdateVersioned(ctx, coll, id, 0, mongox.Change{
				Set:    bson.M{"title": "b"},
				Events: []mongox.OutboxEvent{event(t, "ticket:updated", id, 1)},
			}))

			var first mongox.Publisher
			var entered chan struct{}
			if tt.sentBeforeCrash {
				k := &killedAfterSend{pub: pub, entered: make(chan struct{})}
				first, entered = k, k.entered
			} else {
				b := &blocker{entered: make(chan struct{})}
				first, entered = b, b.entered
			}
			stop := runRelay(t, mongox.NewRelay(coll, first, testLogger(t), mongox.RelayOptions{SweepInterval: time.Hour, PublishTimeout: time.Hour}))
			select {
			case <-entered:
			case <-time.After(waitFor):
				t.Fatal("the first relay never tried to publish")
			}
			stop() // the kill
			require.Len(t, findTicket(t, coll, id).Outbox, 1, "an unacknowledged event stays pending")

			stop2 := runRelay(t, mongox.NewRelay(coll, pub, testLogger(t), mongox.RelayOptions{SweepInterval: time.Hour}))
			require.Eventually(t, func() bool { return pendingCount(t, coll) == 0 }, waitFor, tick)
			stop2()

			// NATS Streaming delivers one subscription's messages in order, so
			// once the sentinel is in, every earlier message is counted.
			require.NoError(t, pub.Publish(ctx, "ticket:updated", []byte(`"sentinel"`)))
			require.Eventually(t, func() bool {
				mu.Lock()
				defer mu.Unlock()
				return sentinel
			}, waitFor, tick)

			mu.Lock()
			defer mu.Unlock()
			versions, applied, repeats, gaps := sub.snapshot()
			assert.Equal(t, tt.wantDeliveries, deliveries, "messages on the wire")
			assert.Equal(t, int64(1), versions[id.Hex()])
			assert.Equal(t, 2, applied, "version 0 and the pending version 1, each applied once")
			assert.Equal(t, tt.wantDeliveries-1, repeats)
			assert.Equal(t, 0, gaps)
		})
	}
}
