package expiry

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/services/expiration/internal/redistest"
)

const waitFor = 10 * time.Second

func newScheduler(t *testing.T, opt asynq.RedisConnOpt, opts ...SchedulerOption) (*Scheduler, *asynq.Inspector) {
	t.Helper()
	client := asynq.NewClient(opt)
	inspector := asynq.NewInspector(opt)
	t.Cleanup(func() {
		_ = client.Close()
		_ = inspector.Close()
	})
	s, err := NewScheduler(client, inspector, nil, opts...)
	require.NoError(t, err)
	return s, inspector
}

func oid(n int) string { return fmt.Sprintf("%024x", n) }

func TestScheduleOncePerOrder(t *testing.T) {
	s, insp := newScheduler(t, redistest.DB(t))
	ctx := context.Background()
	expires := time.Now().Add(time.Hour).Truncate(time.Second).Add(250 * time.Millisecond)

	ok, err := s.Schedule(ctx, oid(1), expires)
	require.NoError(t, err)
	assert.True(t, ok)
	info, err := insp.GetTaskInfo(Queue, oid(1))
	require.NoError(t, err)
	assert.Equal(t, asynq.TaskStateScheduled, info.State)
	assert.Equal(t, expires.Truncate(time.Second).Add(-Lead), info.NextProcessAt,
		"due at the whole second at or before expiresAt - Lead")

	ok, err = s.Schedule(ctx, oid(1), expires.Add(time.Minute))
	require.NoError(t, err)
	assert.False(t, ok, "a repeated order:created schedules nothing")
	info, err = insp.GetTaskInfo(Queue, oid(1))
	require.NoError(t, err)
	assert.Equal(t, expires.Truncate(time.Second).Add(-Lead), info.NextProcessAt, "the first timer is kept")

	for i, expires := range map[int]time.Time{
		2: time.Now().Add(-time.Minute),
		3: time.Now().Add(Lead / 2), // the worker waits for the rest
	} {
		ok, err = s.Schedule(ctx, oid(i), expires)
		require.NoError(t, err)
		assert.True(t, ok)
		info, err = insp.GetTaskInfo(Queue, oid(i))
		require.NoError(t, err)
		assert.Equal(t, asynq.TaskStatePending, info.State, "an order due within Lead is handed to a worker at once")
	}
}

// Replicas of the service may receive the same order:created at once (a
// redelivery racing the first delivery): exactly one timer results.
func TestRacingSchedulesMakeOneTimer(t *testing.T) {
	s, insp := newScheduler(t, redistest.DB(t))
	const racers = 16
	results := make(chan bool, racers)
	var start, wg sync.WaitGroup
	start.Add(1)
	for range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			ok, err := s.Schedule(context.Background(), oid(7), time.Now().Add(time.Hour))
			assert.NoError(t, err)
			results <- ok
		}()
	}
	start.Done()
	wg.Wait()
	close(results)
	count := map[bool]int{}
	for ok := range results {
		count[ok]++
	}
	assert.Equal(t, map[bool]int{true: 1, false: racers - 1}, count)
	tasks, err := insp.ListScheduledTasks(Queue)
	require.NoError(t, err)
	assert.Len(t, tasks, 1)
}

func TestCancel(t *testing.T) {
	s, insp := newScheduler(t, redistest.DB(t))
	ctx := context.Background()

	ok, err := s.Cancel(oid(1))
	require.NoError(t, err, "nothing ever scheduled (the queue does not exist yet) is fine")
	assert.False(t, ok)

	_, err = s.Schedule(ctx, oid(1), time.Now().Add(time.Hour))
	require.NoError(t, err)
	ok, err = s.Cancel(oid(1))
	require.NoError(t, err)
	assert.True(t, ok)
	_, err = insp.GetTaskInfo(Queue, oid(1))
	assert.ErrorIs(t, err, asynq.ErrTaskNotFound)

	ok, err = s.Cancel(oid(1))
	require.NoError(t, err, "cancelling twice (a redelivered order:cancelled) is fine")
	assert.False(t, ok)
	ok, err = s.Cancel(oid(2))
	require.NoError(t, err, "an order with no timer is fine")
	assert.False(t, ok)
}

// A timer that has fired stays in Redis for a while: cancelling the order
// afterwards keeps it, and a late repeat of order:created schedules nothing.
func TestFiredTimerIsKeptAsMarker(t *testing.T) {
	opt := redistest.DB(t)
	s, insp := newScheduler(t, opt)
	ctx := context.Background()
	srv := asynq.NewServer(opt, asynq.Config{
		Queues:                   map[string]int{Queue: 1},
		DelayedTaskCheckInterval: 200 * time.Millisecond,
		TaskCheckInterval:        100 * time.Millisecond,
		Logger:                   quietLogger{},
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(TaskType, func(context.Context, *asynq.Task) error { return nil })
	require.NoError(t, srv.Start(mux))
	t.Cleanup(srv.Shutdown)

	ok, err := s.Schedule(ctx, oid(3), time.Now())
	require.NoError(t, err)
	require.True(t, ok)
	require.Eventually(t, func() bool {
		info, err := insp.GetTaskInfo(Queue, oid(3))
		return err == nil && info.State == asynq.TaskStateCompleted
	}, waitFor, 50*time.Millisecond)

	ok, err = s.Cancel(oid(3))
	require.NoError(t, err)
	assert.False(t, ok)
	ok, err = s.Schedule(ctx, oid(3), time.Now().Add(time.Minute))
	require.NoError(t, err)
	assert.False(t, ok, "the fired timer still blocks a second one")
}

// Cancel looks at a timer and then deletes it, while the timer may be
// firing: whatever the interleaving, Cancel does not fail, and when it says
// there was nothing to cancel the timer did fire.
func TestCancelRacingTheTimer(t *testing.T) {
	opt := redistest.DB(t)
	s, _ := newScheduler(t, opt)
	ctx := context.Background()
	var ran sync.Map
	srv := asynq.NewServer(opt, asynq.Config{
		Concurrency:              4,
		Queues:                   map[string]int{Queue: 1},
		DelayedTaskCheckInterval: 100 * time.Millisecond,
		TaskCheckInterval:        50 * time.Millisecond,
		Logger:                   quietLogger{},
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(TaskType, func(_ context.Context, task *asynq.Task) error {
		j, err := decodeJob(task.Payload())
		require.NoError(t, err)
		time.Sleep(5 * time.Millisecond) // stay active long enough to be met by Cancel
		ran.Store(j.OrderID, true)
		return nil
	})

	require.NoError(t, srv.Start(mux))
	t.Cleanup(srv.Shutdown)
	const orders = 40
	for i := range orders {
		ok, err := s.Schedule(ctx, oid(100+i), time.Now().Add(-time.Second)) // due at once
		require.NoError(t, err)
		require.True(t, ok)
	}
	require.Eventually(t, func() bool { _, fired := ran.Load(oid(100)); return fired }, waitFor, time.Millisecond)

	cancelled := make([]bool, orders)
	var wg sync.WaitGroup
	for i := range orders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * time.Millisecond) // spread over the firing
			ok, err := s.Cancel(oid(100 + i))
			assert.NoError(t, err)
			cancelled[i] = ok
		}()
	}
	wg.Wait()
	var kept int
	for i, ok := range cancelled {
		if ok {
			continue
		}
		kept++
		assert.Eventually(t, func() bool { _, fired := ran.Load(oid(100 + i)); return fired }, waitFor, 20*time.Millisecond,
			"order %d: Cancel found nothing to cancel, yet the timer never fired", i)
	}
	t.Logf("%d of %d timers were already firing or fired when cancelled", kept, orders)
}

// The replica wait speaks only for the connection it is sent on: a master
// that died after the write, with the wait sent to the new master, passes
// it with the timer gone. Schedule looks the timer up after the wait and
// fails when it is missing (here a wait that loses it, as the failover
// would), so the order:created comes back.
func TestScheduleFailsWhenTheTimerIsGoneAfterTheReplicaWait(t *testing.T) {
	var inspector *asynq.Inspector
	lose := "" // the timer the wait loses, as the failover would
	wait := func(context.Context) error {
		if lose == "" {
			return nil
		}
		return inspector.DeleteTask(Queue, lose)
	}
	s, inspector := newScheduler(t, redistest.DB(t), WithReplicaWait(wait))
	ctx := context.Background()

	ok, err := s.Schedule(ctx, oid(1), time.Now().Add(time.Hour))
	require.NoError(t, err, "a timer still there after the wait")
	assert.True(t, ok)

	lose = oid(2)
	_, err = s.Schedule(ctx, oid(2), time.Now().Add(time.Hour))
	require.Error(t, err, "a timer lost during the wait was taken as scheduled")
	assert.Contains(t, err.Error(), "not on the master")

	lose = ""
	ok, err = s.Schedule(ctx, oid(2), time.Now().Add(time.Hour))
	require.NoError(t, err, "the repeat schedules it again")
	assert.True(t, ok)
}

func TestRedisDownIsAnError(t *testing.T) {
	// Nothing listens on port 1: every call fails, none hangs.
	s, _ := newScheduler(t, asynq.RedisClientOpt{Addr: "127.0.0.1:1", DialTimeout: time.Second})
	_, err := s.Schedule(context.Background(), oid(1), time.Now().Add(time.Hour))
	assert.Error(t, err)
	_, err = s.Cancel(oid(1))
	assert.Error(t, err)
}

type quietLogger struct{}

func (quietLogger) Debug(...any) {}
func (quietLogger) Info(...any)  {}
func (quietLogger) Warn(...any)  {}
func (quietLogger) Error(...any) {}
func (quietLogger) Fatal(...any) {}
