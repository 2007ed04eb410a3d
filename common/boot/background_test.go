package boot_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/common/boot"
	"github.com/ticketing/common/events"
	"github.com/ticketing/common/mongox"
	"github.com/ticketing/common/testkit"
)

// waitFor is generous for a loaded 2-core machine under -race; a pass takes
// milliseconds.
const (
	waitFor = 15 * time.Second
	tick    = 10 * time.Millisecond
)

func TestBackgroundLifecycle(t *testing.T) {
	errSubscribe := errors.New("subscribe failed")
	type step struct {
		op      string // "start", "start-failing", "start-nil-relay" or "close"
		wantErr error  // errors.Is target; nil for success
	}
	tests := []struct {
		name           string
		steps          []step
		wantSubscribes int // how often subscribe ran
	}{
		{"start then close", []step{{"start", nil}, {"close", nil}}, 1},
		{"second start refused", []step{{"start", nil}, {"start", boot.ErrStarted}, {"close", nil}}, 1},
		{"close is idempotent", []step{{"start", nil}, {"close", nil}, {"close", nil}}, 1},
		{"close without start", []step{{"close", nil}, {"close", nil}}, 0},
		{"start after close refused", []step{{"start", nil}, {"close", nil}, {"start", boot.ErrClosed}}, 1},
		{"start after close without start refused", []step{{"close", nil}, {"start", boot.ErrClosed}}, 0},
		{"failed subscribe may be retried", []step{{"start-failing", errSubscribe}, {"start", nil}, {"close", nil}}, 2},
		{"nil relay refused before subscribing", []step{{"start-nil-relay", nil}, {"start", nil}, {"close", nil}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b boot.Background
			subscribes := 0
			for i, s := range tt.steps {
				var err error
				switch s.op {
				case "start":
					err = b.Start(t.Context(), func() ([]*events.Listener, error) { subscribes++; return nil, nil })
				case "start-failing":
					err = b.Start(t.Context(), func() ([]*events.Listener, error) { subscribes++; return nil, errSubscribe })
				case "start-nil-relay":
					err = b.Start(t.Context(), func() ([]*events.Listener, error) { subscribes++; return nil, nil }, nil)
					require.ErrorContains(t, err, "relay 0 is nil", "step %d", i)
					continue
				case "close":
					err = b.Close()
				}
				if s.wantErr == nil {
					require.NoError(t, err, "step %d: %s", i, s.op)
				} else {
					require.ErrorIs(t, err, s.wantErr, "step %d: %s", i, s.op)
				}
			}
			assert.Equal(t, tt.wantSubscribes, subscribes)
		})
	}
}

// Start and Close racing from many goroutines: at most one Start wins and
// subscribes, every Close succeeds, and afterwards Start is refused.
func TestBackgroundConcurrentStartAndClose(t *testing.T) {
	for range 20 {
		var b boot.Background
		var subscribes, started atomic.Int32
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				err := b.Start(context.Background(), func() ([]*events.Listener, error) {
					subscribes.Add(1)
					return nil, nil
				})
				if err == nil {
					started.Add(1)
				} else {
					assert.True(t, errors.Is(err, boot.ErrStarted) || errors.Is(err, boot.ErrClosed), err)
				}
			})
			wg.Go(func() { assert.NoError(t, b.Close()) })
		}
		wg.Wait()
		assert.LessOrEqual(t, started.Load(), int32(1))
		assert.Equal(t, started.Load(), subscribes.Load())
		assert.ErrorIs(t, b.Start(context.Background(), nil), boot.ErrClosed)
	}
}

// gate is a mongox.Publisher that records subjects, or, once held, blocks
// each publish until its context ends and records that it ended.
type gate struct {
	mu      sync.Mutex
	sent    []string
	hold    bool
	waiting bool // a held publish is blocked
	ended   bool // a held publish saw its context end
}

func (g *gate) Publish(ctx context.Context, subject string, _ []byte) error {
	g.mu.Lock()
	if !g.hold {
		g.sent = append(g.sent, subject)
		g.mu.Unlock()
		return nil
	}
	g.waiting = true
	g.mu.Unlock()
	<-ctx.Done()
	g.mu.Lock()
	g.ended = true
	g.mu.Unlock()
	return ctx.Err()
}

func (g *gate) snapshot() (sent []string, waiting, ended bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.sent...), g.waiting, g.ended
}

func insertPending(t *testing.T, coll *mongo.Collection, subject string) {
	t.Helper()
	ev, err := mongox.NewOutboxEvent(subject, map[string]string{"n": subject})
	require.NoError(t, err)
	_, err = coll.InsertOne(context.Background(), bson.M{"_id": primitive.NewObjectID(), "outbox": []mongox.OutboxEvent{ev}})
	require.NoError(t, err)
}

// The relays keep publishing after Start's ctx has ended, and Close stops
// them and waits for them: a publish in progress sees its context end
// before Close returns.
func TestBackgroundRelaysRunUntilClose(t *testing.T) {
	db := testkit.MongoDB(t)
	g := &gate{}
	// Only Notify wakes them: no sweep timer, no publish timeout, so nothing
	// but Close can end the held publish.
	opts := mongox.RelayOptions{SweepInterval: time.Hour, PublishTimeout: time.Hour}
	log := slog.New(slog.DiscardHandler)
	collA, collB := db.Collection("a"), db.Collection("b")
	relayA := mongox.NewRelay(collA, g, log, opts)
	relayB := mongox.NewRelay(collB, g, log, opts)

	var b boot.Background
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, b.Start(ctx, nil, relayA, relayB))
	closed := false
	t.Cleanup(func() {
		if !closed {
			assert.NoError(t, b.Close())
		}
	})
	cancel()

	// Written after ctx ended: only relays that outlive it send these.
	insertPending(t, collA, "a:1")
	insertPending(t, collB, "b:1")
	relayA.Notify()
	relayB.Notify()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		sent, _, _ := g.snapshot()
		// Subset, not equality: a relay sends at least once.
		assert.Subset(c, sent, []string{"a:1", "b:1"})
	}, waitFor, tick, "both relays still publish after Start's ctx ended")

	g.mu.Lock()
	g.hold = true
	g.mu.Unlock()
	insertPending(t, collA, "a:2")
	relayA.Notify()
	require.Eventually(t, func() bool { _, waiting, _ := g.snapshot(); return waiting }, waitFor, tick)

	require.NoError(t, b.Close())
	closed = true
	_, _, ended := g.snapshot()
	assert.True(t, ended, "Close stopped the relay and waited for its publish to return")
}

// Close closes the listeners Start subscribed: afterwards the durable queue
// group's new messages all go to another member, none to the closed one.
func TestBackgroundCloseClosesListeners(t *testing.T) {
	bus := testkit.NATS(t)
	const group = "boot-test"
	type inbox struct {
		mu  sync.Mutex
		ids []string
	}
	received := func(in *inbox) []string { in.mu.Lock(); defer in.mu.Unlock(); return append([]string(nil), in.ids...) }
	handler := func(in *inbox) events.Handler[events.TicketCreated] {
		return func(_ context.Context, m events.TicketCreated, _ events.Meta) error {
			in.mu.Lock()
			defer in.mu.Unlock()
			in.ids = append(in.ids, m.ID)
			return nil
		}
	}
	pub := events.NewPublisher(bus.Connect(t))
	publish := func() string {
		id := primitive.NewObjectID().Hex()
		require.NoError(t, pub.PublishEvent(context.Background(), events.TicketCreated{
			ID: id, Title: "concert", Price: 20, UserID: primitive.NewObjectID().Hex(),
		}))
		return id
	}

	first := &inbox{}
	var b boot.Background
	require.NoError(t, b.Start(t.Context(), func() ([]*events.Listener, error) {
		l, err := events.Listen(bus.Connect(t), group, handler(first))
		return []*events.Listener{l}, err
	}))
	before := publish()
	require.Eventually(t, func() bool { return len(received(first)) > 0 }, waitFor, tick, "the listener was subscribed")

	require.NoError(t, b.Close())

	second := &inbox{}
	l, err := events.Listen(bus.Connect(t), group, handler(second))
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, l.Close()) })
	var after []string
	for range 6 {
		after = append(after, publish())
	}
	// The message from before Close may reach the second member too: its
	// ack can lose the race with the close at the server (at-least-once).
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Subset(c, received(second), after)
	}, waitFor, tick)
	assert.Equal(t, []string{before}, received(first), "the closed listener took none of the later messages")
}
