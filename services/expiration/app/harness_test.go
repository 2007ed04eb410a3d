package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/events"
	"github.com/ticketing/common/testkit"
	"github.com/ticketing/services/expiration/app"
	"github.com/ticketing/services/expiration/internal/expiry"
	"github.com/ticketing/services/expiration/internal/redistest"
)

// harness is one test's world: its own NATS Streaming server, its own Redis
// database, a publisher standing in for orders and payments, and an observer
// standing in for orders' expiration:complete listener.
type harness struct {
	nats      *testkit.NATSServer
	redis     asynq.RedisConnOpt
	inspector *asynq.Inspector
	pub       *events.Publisher
	expired   chan expiredAt
	logs      *testkit.LogBuffer
}

type expiredAt struct {
	orderID string
	at      time.Time
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessOn(t, redistest.DB(t))
}

// newHarnessOn is newHarness with the timers kept in the Redis redis names.
func newHarnessOn(t *testing.T, redis asynq.RedisConnOpt) *harness {
	t.Helper()
	h := &harness{
		nats:    testkit.NATS(t),
		redis:   redis,
		expired: make(chan expiredAt, 100),
		logs:    &testkit.LogBuffer{},
	}
	h.inspector = asynq.NewInspector(h.redis)
	t.Cleanup(func() { _ = h.inspector.Close() })
	h.pub = events.NewPublisher(h.nats.Connect(t))
	observer, err := events.Listen(h.nats.Connect(t), "test-observer",
		func(_ context.Context, e events.ExpirationComplete, _ events.Meta) error {
			h.expired <- expiredAt{e.OrderID, time.Now()}
			return nil
		})
	require.NoError(t, err)
	t.Cleanup(func() { _ = observer.Close() })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("service log:\n%s", h.logs.String())
		}
	})
	return h
}

// startApp runs the service on its own NATS connection, as a replica would.
func (h *harness) startApp(t *testing.T) *app.App {
	t.Helper()
	logger := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.New(context.Background(), app.Deps{Events: h.nats.Connect(t), Redis: h.redis, Logger: logger})
	require.NoError(t, err)
	require.NoError(t, a.Start(context.Background()))
	t.Cleanup(func() { assert.NoError(t, a.Close()) })
	return a
}

var orderSeq struct {
	mu sync.Mutex
	n  int
}

// newOrderID is unique within the test binary.
func newOrderID() string {
	orderSeq.mu.Lock()
	defer orderSeq.mu.Unlock()
	orderSeq.n++
	return fmt.Sprintf("%024x", 0xabc000000+orderSeq.n)
}

func (h *harness) publish(t *testing.T, p events.Payload) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, h.pub.PublishEvent(ctx, p))
}

func (h *harness) orderCreated(t *testing.T, id string, expiresAt time.Time) {
	t.Helper()
	h.publish(t, events.OrderCreated{
		ID: id, Version: 0, Status: events.OrderStatusCreated, UserID: "aaaaaaaaaaaaaaaaaaaaaaaa", ExpiresAt: expiresAt,
		Ticket: events.OrderCreatedTicket{ID: "bbbbbbbbbbbbbbbbbbbbbbbb", Price: 20.5},
	})
}

// noTimer stands for "no timer in Redis" (asynq's states start at 1).
const noTimer asynq.TaskState = 0

// taskState is the timer's state in Redis, or noTimer.
func (h *harness) taskState(id string) asynq.TaskState {
	info, err := h.inspector.GetTaskInfo(expiry.Queue, id)
	if err != nil {
		return noTimer
	}
	return info.State
}

func (h *harness) waitForState(t *testing.T, id string, state asynq.TaskState) {
	t.Helper()
	require.Eventually(t, func() bool { return h.taskState(id) == state }, waitFor, 20*time.Millisecond,
		"timer of order %s never reached state %v", id, state)
}

// receive waits for the next expiration:complete.
func (h *harness) receive(t *testing.T, within time.Duration) expiredAt {
	t.Helper()
	select {
	case e := <-h.expired:
		return e
	case <-time.After(within):
		t.Fatalf("no expiration:complete within %v", within)
		return expiredAt{}
	}
}

// noMore checks that nothing else arrives for a while: a bounded wait for
// an absence.
func (h *harness) noMore(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case e := <-h.expired:
		t.Errorf("unexpected expiration:complete for order %s", e.orderID)
	case <-time.After(d):
	}
}
