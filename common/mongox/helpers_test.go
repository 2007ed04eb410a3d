package mongox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/common/mongox"
)

// waitFor is how long an Eventually may take; generous for a loaded 2-core
// machine running -race, while a pass takes milliseconds.
const (
	waitFor = 15 * time.Second
	tick    = 10 * time.Millisecond
)

// ticket is a replicated record as a service would store it.
type ticket struct {
	ID      primitive.ObjectID   `bson:"_id"`
	Version int64                `bson:"version"`
	Title   string               `bson:"title"`
	Price   float64              `bson:"price,omitempty"`
	OrderID string               `bson:"orderId,omitempty"`
	Outbox  []mongox.OutboxEvent `bson:"outbox,omitempty"`
}

// versionEvent is the payload the tests publish: enough for a replica to
// deduplicate by version, as CONTRACT.md §3 asks of every listener.
type versionEvent struct {
	ID      string `json:"id"`
	Version int64  `json:"version"`
}

func event(t testing.TB, subject string, id primitive.ObjectID, version int64) mongox.OutboxEvent {
	t.Helper()
	ev, err := mongox.NewOutboxEvent(subject, versionEvent{ID: id.Hex(), Version: version})
	require.NoError(t, err)
	return ev
}

func findTicket(t testing.TB, coll *mongo.Collection, id primitive.ObjectID) ticket {
	t.Helper()
	var got ticket
	require.NoError(t, coll.FindOne(context.Background(), bson.M{"_id": id}).Decode(&got))
	return got
}

func rawDoc(t testing.TB, coll *mongo.Collection, id primitive.ObjectID) bson.M {
	t.Helper()
	var got bson.M
	require.NoError(t, coll.FindOne(context.Background(), bson.M{"_id": id}).Decode(&got))
	return got
}

func pendingCount(t testing.TB, coll *mongo.Collection) int64 {
	t.Helper()
	n, err := coll.CountDocuments(context.Background(), bson.M{"outbox.0": bson.M{"$exists": true}})
	require.NoError(t, err)
	return n
}

type message struct {
	Subject string
	Data    []byte
}

// recorder is a Publisher that keeps what it was given. fail, when set, is
// asked before each publish and may refuse it.
type recorder struct {
	mu       sync.Mutex
	msgs     []message
	attempts int
	fail     func(attempt int, subject string, data []byte) error
	onPub    func(m message)
}

func (r *recorder) Publish(_ context.Context, subject string, data []byte) error {
	r.mu.Lock()
	r.attempts++
	attempt := r.attempts
	fail := r.fail
	r.mu.Unlock()
	if fail != nil {
		if err := fail(attempt, subject, data); err != nil {
			return err
		}
	}
	m := message{Subject: subject, Data: append([]byte(nil), data...)}
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	on := r.onPub
	r.mu.Unlock()
	if on != nil {
		on(m)
	}
	return nil
}

func (r *recorder) messages() []message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]message(nil), r.msgs...)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

// versionsOf decodes the recorded messages of one record, in publish order.
func versionsOf(t testing.TB, msgs []message, id primitive.ObjectID) []int64 {
	t.Helper()
	var out []int64
	for _, m := range msgs {
		var ev versionEvent
		require.NoError(t, json.Unmarshal(m.Data, &ev), "payload %q", m.Data)
		if ev.ID == id.Hex() {
			out = append(out, ev.Version)
		}
	}
	return out
}

// replica applies events as a versioned listener does: version v only on top
// of v-1, a repeat is acknowledged and ignored.
type replica struct {
	mu       sync.Mutex
	versions map[string]int64
	applied  int
	repeats  int
	gaps     int
}

func newReplica() *replica { return &replica{versions: map[string]int64{}} }

func (r *replica) handle(data []byte) error {
	var ev versionEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return fmt.Errorf("replica: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	stored, ok := r.versions[ev.ID]
	switch {
	case !ok && ev.Version == 0, ok && ev.Version == stored+1:
		r.versions[ev.ID] = ev.Version
		r.applied++
	case ok && ev.Version <= stored:
		r.repeats++
	default:
		r.gaps++
	}
	return nil
}

func (r *replica) snapshot() (versions map[string]int64, applied, repeats, gaps int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	versions = make(map[string]int64, len(r.versions))
	for k, v := range r.versions {
		versions[k] = v
	}
	return versions, r.applied, r.repeats, r.gaps
}

// runRelay runs r until the returned stop is called (or the test ends) and
// checks that Run returns nil promptly when stopped.
func runRelay(t *testing.T, r *mongox.Relay) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(waitFor):
				t.Fatal("relay did not stop after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// logBuffer collects log output from the relay goroutine safely.
type logBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
