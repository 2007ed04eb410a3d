package expiry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/events"
)

const orderID = "0123456789abcdef01234567"

// fakePublisher records what it is asked to publish and fails as told.
type fakePublisher struct {
	mu   sync.Mutex
	err  error
	sent []events.Payload
}

func (f *fakePublisher) PublishEvent(_ context.Context, p events.Payload) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, p)
	return f.err
}

func TestWorkerPublishesExpirationComplete(t *testing.T) {
	expires := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	task, err := newTask(Job{OrderID: orderID, ExpiresAt: expires})
	require.NoError(t, err)

	tests := []struct {
		name      string
		publish   error
		retried   bool // the task runs again later
		isFailure bool // and the retry counts against the task's budget
	}{
		{"published", nil, false, false},
		{"NATS down", fmt.Errorf("events: publish: %w", events.ErrNotConnected), true, false},
		{"ack timeout", errors.New("nats: timeout"), true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &fakePublisher{err: tt.publish}
			w, err := NewWorker(pub, nil, func() time.Time { return expires.Add(700 * time.Millisecond) }, nil)
			require.NoError(t, err)

			err = w.ProcessTask(context.Background(), task)
			assert.Equal(t, []events.Payload{events.ExpirationComplete{OrderID: orderID}}, pub.sent)
			if !tt.retried {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.NotErrorIs(t, err, asynq.SkipRetry, "a failed publish is retried, never dropped")
			assert.ErrorIs(t, err, tt.publish)
			assert.Equal(t, tt.isFailure, IsFailure(err))
		})
	}
}

func TestWorkerDropsTasksThatCanNeverRun(t *testing.T) {
	for name, payload := range map[string]string{
		"not JSON":          `nope`,
		"no order id":       `{"expiresAt":"2026-01-02T03:04:05Z"}`,
		"order id not hex":  `{"orderId":"zz23456789abcdef01234567"}`,
		"order id too long": `{"orderId":"0123456789abcdef012345678"}`,
	} {
		t.Run(name, func(t *testing.T) {
			pub := &fakePublisher{}
			w, err := NewWorker(pub, nil, nil, nil)
			require.NoError(t, err)
			err = w.ProcessTask(context.Background(), asynq.NewTask(TaskType, []byte(payload)))
			assert.ErrorIs(t, err, asynq.SkipRetry, "archived, not retried forever")
			assert.ErrorIs(t, err, ErrBadJob)
			assert.Empty(t, pub.sent)
		})
	}
}

func TestRetryDelay(t *testing.T) {
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30, 30}
	for n, w := range want {
		assert.Equal(t, w*time.Second, RetryDelay(n, nil, nil), "after %d failures", n)
	}
	assert.Equal(t, 30*time.Second, RetryDelay(1000, nil, nil), "no overflow")
}

func TestProcessAtLeadsExpiresAt(t *testing.T) {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		expires, want time.Time
	}{
		{base, base.Add(-Lead)},
		{base.Add(time.Nanosecond), base.Add(-Lead)},
		{base.Add(999 * time.Millisecond), base.Add(-Lead)},
		{base.Add(-time.Millisecond), base.Add(-Lead - time.Second)},
	}
	for _, tt := range tests {
		got := processAt(tt.expires)
		assert.Equal(t, tt.want, got, tt.expires.Format(events.TimeLayout))
		assert.Equal(t, got, got.Truncate(time.Second), "asynq keeps whole seconds")
		assert.False(t, got.After(tt.expires.Add(-Lead)), "at least Lead early")
		assert.True(t, got.After(tt.expires.Add(-Lead-time.Second)), "less than Lead + 1 s early")
	}
}

// asynq hands the task over early; the worker publishes at expiresAt, not
// before (the buyer may still pay) and not much after.
func TestWorkerWaitsForExpiresAt(t *testing.T) {
	const ahead = 300 * time.Millisecond
	pub := &timedPublisher{}
	w, err := NewWorker(pub, nil, nil, nil)
	require.NoError(t, err)
	expires := time.Now().Add(ahead)
	task, err := newTask(Job{OrderID: orderID, ExpiresAt: expires})
	require.NoError(t, err)

	require.NoError(t, w.ProcessTask(context.Background(), task))
	require.Len(t, pub.at, 1)
	late := pub.at[0].Sub(expires)
	t.Logf("published %v after expiresAt", late)
	assert.GreaterOrEqual(t, late, time.Duration(0), "never before expiresAt")
	assert.Less(t, late, 150*time.Millisecond, "a timer, not a poll")
}

// A task stopped while it waits (deadline, cancelled through asynq)
// publishes nothing and says so, so that asynq runs it again.
func TestWorkerStopsWaitingWithItsContext(t *testing.T) {
	pub := &timedPublisher{}
	w, err := NewWorker(pub, nil, nil, nil)
	require.NoError(t, err)
	task, err := newTask(Job{OrderID: orderID, ExpiresAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()

	start := time.Now()
	err = w.ProcessTask(ctx, task)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorIs(t, err, asynq.SkipRetry)
	assert.Less(t, time.Since(start), 5*time.Second, "returns when its context ends, not at expiresAt")
	assert.Empty(t, pub.at)
}

// timedPublisher records when it is asked to publish.
type timedPublisher struct {
	mu sync.Mutex
	at []time.Time
}

func (p *timedPublisher) PublishEvent(context.Context, events.Payload) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.at = append(p.at, time.Now())
	return nil
}
