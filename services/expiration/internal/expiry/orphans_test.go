package expiry

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/events"
	"github.com/ticketing/services/expiration/internal/redistest"
)

// fakeActive answers ListActiveTasks with what a test sets.
type fakeActive struct {
	tasks []*asynq.TaskInfo
	err   error
}

func (f *fakeActive) ListActiveTasks(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error) {
	return f.tasks, f.err
}

func activeTask(t *testing.T, id string, expiresAt time.Time, orphaned bool) *asynq.TaskInfo {
	t.Helper()
	data, err := json.Marshal(Job{OrderID: id, ExpiresAt: expiresAt})
	require.NoError(t, err)
	return &asynq.TaskInfo{ID: id, Queue: Queue, Type: TaskType, Payload: data, State: asynq.TaskStateActive, IsOrphaned: orphaned}
}

func TestOrphanSweepEndsOnlyOrphanedDueHolds(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	active := &fakeActive{tasks: []*asynq.TaskInfo{
		activeTask(t, oid(1), now.Add(-time.Second), true),  // its worker died: ended
		activeTask(t, oid(2), now.Add(time.Second), true),   // orphaned, not yet due: later
		activeTask(t, oid(3), now.Add(-time.Minute), false), // a live worker holds it: never
		{ID: "bad", Queue: Queue, Payload: []byte("{"), State: asynq.TaskStateActive, IsOrphaned: true},
	}}
	pub := &fakePublisher{}
	w, err := NewWorker(pub, nil, func() time.Time { return now }, nil)
	require.NoError(t, err)
	sweep, err := NewOrphanSweep(active, w, nil, time.Hour)
	require.NoError(t, err)
	ctx := context.Background()

	ended, err := sweep.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, ended)
	assert.Equal(t, []events.Payload{events.ExpirationComplete{OrderID: oid(1)}}, pub.sent)

	ended, err = sweep.Sweep(ctx)
	require.NoError(t, err)
	assert.Zero(t, ended, "an orphan is ended once, not at every look")
	assert.Len(t, pub.sent, 1)

	// Two seconds on, the second orphan is due.
	w.now = func() time.Time { return now.Add(2 * time.Second) }
	ended, err = sweep.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, ended)
	assert.Equal(t, []events.Payload{events.ExpirationComplete{OrderID: oid(1)}, events.ExpirationComplete{OrderID: oid(2)}}, pub.sent)

	// Once asynq has moved a task on, its id is forgotten.
	active.tasks = active.tasks[2:]
	_, err = sweep.Sweep(ctx)
	require.NoError(t, err)
	assert.NotContains(t, sweep.ended, oid(1))
}

func TestOrphanSweepTriesAFailedPublishAgain(t *testing.T) {
	now := time.Now()
	active := &fakeActive{tasks: []*asynq.TaskInfo{activeTask(t, oid(1), now.Add(-time.Second), true)}}
	pub := &fakePublisher{err: events.ErrNotConnected}
	w, err := NewWorker(pub, nil, nil, nil)
	require.NoError(t, err)
	sweep, err := NewOrphanSweep(active, w, nil, time.Hour)
	require.NoError(t, err)

	ended, err := sweep.Sweep(context.Background())
	require.NoError(t, err)
	assert.Zero(t, ended)

	pub.err = nil
	ended, err = sweep.Sweep(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, ended)
	assert.Len(t, pub.sent, 2, "tried again at the next look")
}

func TestOrphanSweepReportsAFailedList(t *testing.T) {
	w, err := NewWorker(&fakePublisher{}, nil, nil, nil)
	require.NoError(t, err)
	for _, tt := range []struct {
		name    string
		err     error
		wantErr bool
	}{
		{"no timer ever scheduled", asynq.ErrQueueNotFound, false},
		{"Redis down", errors.New("dial tcp: connection refused"), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sweep, err := NewOrphanSweep(&fakeActive{err: tt.err}, w, nil, time.Hour)
			require.NoError(t, err)
			ended, err := sweep.Sweep(context.Background())
			assert.Zero(t, ended)
			assert.Equal(t, tt.wantErr, err != nil, "%v", err)
		})
	}
}

// Over real Redis and asynq: a timer whose worker stops extending its lease
// (as after a kill -9) is ended by the sweep, and one whose worker lives is not.
func TestOrphanSweepEndsATimerWhoseWorkerDied(t *testing.T) {
	opt := redistest.DB(t)
	s, insp := newScheduler(t, opt)
	ctx := context.Background()
	orderID := oid(42)
	_, err := s.Schedule(ctx, orderID, time.Now().Add(-time.Second)) // due at once
	require.NoError(t, err)

	// A worker that takes the timer and never lets go.
	taken, release := make(chan struct{}), make(chan struct{})
	srv := asynq.NewServer(opt, asynq.Config{
		Concurrency: 1, Queues: map[string]int{Queue: 1},
		DelayedTaskCheckInterval: 100 * time.Millisecond, TaskCheckInterval: 100 * time.Millisecond,
		ShutdownTimeout: time.Second, LogLevel: asynq.FatalLevel,
	})
	require.NoError(t, srv.Start(asynq.HandlerFunc(func(ctx context.Context, _ *asynq.Task) error {
		close(taken)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return errors.New("let go")
	})))
	t.Cleanup(srv.Shutdown)
	t.Cleanup(func() { close(release) })
	select {
	case <-taken:
	case <-time.After(waitFor):
		t.Fatal("the worker never took the timer")
	}

	pub := &fakePublisher{}
	w, err := NewWorker(pub, nil, nil, nil)
	require.NoError(t, err)
	sweep, err := NewOrphanSweep(insp, w, nil, time.Hour)
	require.NoError(t, err)

	ended, err := sweep.Sweep(ctx)
	require.NoError(t, err)
	assert.Zero(t, ended, "a live worker's timer is left alone")
	assert.Empty(t, pub.sent)

	// The lease a dead worker would have left behind, lapsed: asynq v0.26
	// keeps leases in the sorted set asynq:{<queue>}:lease, scored by their
	// end in Unix seconds. This test alone reaches into that layout. The
	// live worker's heartbeat (every 5 s) renews it, so set and look at once,
	// and again if a heartbeat came between.
	rdb := redis.NewClient(&redis.Options{Addr: opt.Addr, DB: opt.DB})
	t.Cleanup(func() { _ = rdb.Close() })
	leaseKey := "asynq:{" + Queue + "}:lease"
	require.Eventually(t, func() bool {
		require.NoError(t, rdb.ZAdd(ctx, leaseKey, redis.Z{Score: float64(time.Now().Add(-time.Minute).Unix()), Member: orderID}).Err())
		n, err := sweep.Sweep(ctx)
		require.NoError(t, err)
		return n == 1
	}, waitFor, 100*time.Millisecond)
	assert.Equal(t, []events.Payload{events.ExpirationComplete{OrderID: orderID}}, pub.sent)
}
