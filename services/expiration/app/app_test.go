package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/events"
	"github.com/ticketing/common/testkit"
	"github.com/ticketing/services/expiration/app"
	"github.com/ticketing/services/expiration/internal/expiry"
)

const (
	waitFor = 15 * time.Second
	// arrival bounds how long after expiresAt an event may take in tests of
	// other things than timing (TestHoldsEndOnTime checks the promise).
	arrival = 5 * time.Second
	// onTime is the promise: expiration:complete within 200 ms of expiresAt.
	onTime = 200 * time.Millisecond
	// scheduledFor puts expiresAt far enough ahead that a timer waits in
	// asynq's scheduled set for at least a second before a worker takes it
	// (expiry.Lead ahead of expiresAt), so tests can see it there, cancel
	// it, or stop things before it fires.
	scheduledFor = expiry.Lead + 2*time.Second
	// grace is how long no second event is waited for.
	grace = 2 * time.Second
)

func TestOrderExpiresExactlyOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// repeats is how often order:created is published again before the
		// order is due.
		repeats int
	}{
		{"one order:created", 0},
		{"order:created delivered three times", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			a := h.startApp(t)
			id := newOrderID()
			expiresAt := dueIn(scheduledFor)
			h.orderCreated(t, id, expiresAt)
			h.waitForState(t, id, asynq.TaskStateScheduled)
			for range tt.repeats {
				h.orderCreated(t, id, expiresAt.Add(time.Minute))
			}

			got := h.receive(t, time.Until(expiresAt)+arrival)
			assert.Equal(t, id, got.orderID)
			assert.False(t, got.at.Before(expiresAt), "never before expiresAt, when the buyer may still pay")
			t.Logf("expiration:complete %v after expiresAt", got.at.Sub(expiresAt))

			// A repeat after the timer fired (a late redelivery) schedules nothing either.
			h.orderCreated(t, id, expiresAt)
			h.noMore(t, grace)

			metrics := get(t, a.Handler(), "/metrics")
			assert.Contains(t, metrics.body, `expiration_timers_total{outcome="scheduled"} 1`)
			assert.Contains(t, metrics.body, `expiration_timers_total{outcome="fired"} 1`)
			assert.Contains(t, metrics.body, "expiration_publish_delay_seconds_count 1")
		})
	}
}

// Holds end within onTime of expiresAt, wherever in its second expiresAt
// falls: asynq's due times are whole seconds and its polls come every few
// hundred milliseconds, and neither may show in when the event goes out.
// Measured from expiresAt to the event's arrival at a listener, so the
// publish and the delivery count too.
func TestHoldsEndOnTime(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startApp(t)
	second := time.Now().Truncate(time.Second).Add(scheduledFor)
	offsets := []time.Duration{0, time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond, 999 * time.Millisecond}
	due := map[string]time.Duration{}
	for _, off := range offsets {
		id := newOrderID()
		due[id] = off
		h.orderCreated(t, id, second.Add(off))
	}

	for range offsets {
		got := h.receive(t, time.Until(second)+time.Second+arrival)
		off, ok := due[got.orderID]
		require.True(t, ok, "unknown or repeated order %s", got.orderID)
		delete(due, got.orderID)
		late := got.at.Sub(second.Add(off))
		t.Logf("expiresAt %v into its second: expiration:complete %v after it", off, late)
		assert.GreaterOrEqual(t, late, time.Duration(0), "expiresAt %v into its second: ended early", off)
		assert.Less(t, late, onTime, "expiresAt %v into its second: ended late", off)
	}
	h.noMore(t, grace)
}

// The timer lives in Redis: the service can stop and another instance
// fires it.
func TestTimerSurvivesRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	first := h.startApp(t)
	id := newOrderID()
	expiresAt := dueIn(scheduledFor)
	h.orderCreated(t, id, expiresAt)
	h.waitForState(t, id, asynq.TaskStateScheduled)
	require.NoError(t, first.Close())
	// A worker may take the timer from expiresAt - Lead - 1 s on.
	require.Less(t, time.Now(), expiresAt.Add(-expiry.Lead-time.Second),
		"the test machine is too slow for this test: the timer came due before the restart")

	h.startApp(t)
	got := h.receive(t, time.Until(expiresAt)+arrival)
	assert.Equal(t, id, got.orderID)
	t.Logf("expiration:complete %v after expiresAt", got.at.Sub(expiresAt))
	h.noMore(t, grace)
}

func TestCancelledOrPaidOrderDoesNotExpire(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		settle func(orderID string) events.Payload
	}{
		{"order:cancelled", func(id string) events.Payload {
			return events.OrderCancelled{ID: id, Version: 1, Ticket: events.OrderCancelledTicket{ID: "bbbbbbbbbbbbbbbbbbbbbbbb"}}
		}},
		{"payment:created", func(id string) events.Payload {
			return events.PaymentCreated{ID: "cccccccccccccccccccccccc", OrderID: id, StripeID: "ch_1"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.startApp(t)
			settled, control := newOrderID(), newOrderID()
			expiresAt := dueIn(scheduledFor)
			h.orderCreated(t, settled, expiresAt)
			h.orderCreated(t, control, expiresAt)
			h.waitForState(t, settled, asynq.TaskStateScheduled)

			h.publish(t, tt.settle(settled))
			h.waitForState(t, settled, noTimer)
			// The control order, due at the same time, shows timers do fire
			// here, so the absence below means something.
			assert.Equal(t, control, h.receive(t, time.Until(expiresAt)+arrival).orderID)
			h.noMore(t, time.Until(expiresAt)+grace)

			// A repeated cancel or payment (redelivery) is fine.
			h.publish(t, tt.settle(settled))
			h.publish(t, tt.settle(newOrderID()))
			assert.Eventually(t, func() bool {
				return h.logs.Count(t, "handler failed", nil) == 0 && h.logs.Count(t, "hold timer cancelled", nil) == 1
			},
				waitFor, 50*time.Millisecond)
		})
	}
}

// A message that can never be processed is logged and acked, and does not
// hold back the ones after it.
func TestPoisonOrderCreatedIsAcked(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startApp(t)
	ctx := context.Background()
	sentPoison := time.Now()
	require.NoError(t, h.pub.Publish(ctx, string(events.SubjectOrderCreated), []byte(`{"id":"not an order"`)))
	require.NoError(t, h.pub.Publish(ctx, string(events.SubjectOrderCreated), []byte(`{"id":"0123456789abcdef01234567","version":0}`)))
	id := newOrderID()
	expiresAt := dueIn(time.Second)
	h.orderCreated(t, id, expiresAt)

	assert.Equal(t, id, h.receive(t, time.Until(expiresAt)+arrival).orderID)
	require.Equal(t, 2, h.logs.Count(t, "poison message", nil))
	// Unacked, they would be redelivered after the 5 s ack wait.
	redeliveredBy := time.Until(sentPoison.Add(5*time.Second + 1500*time.Millisecond))
	assert.Never(t, func() bool { return h.logs.Count(t, "poison message", nil) > 2 }, redeliveredBy, 100*time.Millisecond)
	h.noMore(t, 0)
}

// When NATS is down at the due time the publish fails; the timer goes back
// to Redis and fires again until NATS is back.
func TestFailedPublishIsRetried(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startApp(t)
	id := newOrderID()
	expiresAt := dueIn(scheduledFor)
	h.orderCreated(t, id, expiresAt)
	h.waitForState(t, id, asynq.TaskStateScheduled)

	h.nats.Stop()
	h.waitForState(t, id, asynq.TaskStateRetry)
	info, err := h.inspector.GetTaskInfo(expiry.Queue, id)
	require.NoError(t, err)
	assert.Contains(t, info.LastErr, "publish expiration:complete")

	h.nats.Restart()
	got := h.receive(t, 30*time.Second)
	assert.Equal(t, id, got.orderID)
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.startApp(t)
	r := get(t, a.Handler(), "/healthz")
	assert.Equal(t, 200, r.status)
	r = get(t, a.Handler(), "/readyz")
	assert.Equal(t, 200, r.status, r.body)
	r = get(t, a.Handler(), "/api/anything")
	assert.Equal(t, 404, r.status, "no public routes")
	assert.JSONEq(t, `{"errors":[{"message":"Not Found"}]}`, r.body)

	t.Run("redis unreachable", func(t *testing.T) {
		down, err := app.New(context.Background(), app.Deps{
			Events: h.nats.Connect(t),
			Redis:  asynq.RedisClientOpt{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond},
		})
		require.NoError(t, err)
		t.Cleanup(func() { assert.NoError(t, down.Close()) })
		r := get(t, down.Handler(), "/readyz")
		assert.Equal(t, 503, r.status)
		assert.JSONEq(t, `{"errors":[{"message":"redis is not ready"}]}`, r.body)
	})
	t.Run("nats down", func(t *testing.T) {
		// A bus outage is not a reason to take the pod out of service
		// (CONTRACT.md §2): it shows in metrics and logs instead.
		// Not started: closing listeners needs the server, which is gone.
		srv := testkit.NATS(t)
		conn := srv.Connect(t)
		down, err := app.New(context.Background(), app.Deps{Events: conn, Redis: h.redis})
		require.NoError(t, err)
		t.Cleanup(func() { assert.NoError(t, down.Close()) })
		srv.Stop()
		require.Eventually(t, func() bool { return !conn.Connected() }, 10*time.Second, 20*time.Millisecond)
		r := get(t, down.Handler(), "/readyz")
		assert.Equal(t, 200, r.status, r.body)
	})
}

func TestLifecycle(t *testing.T) {
	_, err := app.New(context.Background(), app.Deps{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Events")
	assert.Contains(t, err.Error(), "Redis")

	srv := testkit.NATS(t)
	a, err := app.New(context.Background(), app.Deps{Events: srv.Connect(t), Redis: asynq.RedisClientOpt{Addr: "127.0.0.1:1"}})
	require.NoError(t, err)
	require.NoError(t, a.Close(), "Close without Start")
	require.NoError(t, a.Close(), "Close twice")
	assert.Error(t, a.Start(context.Background()), "no Start after Close")
}

// dueIn is an expiresAt d from now at the wire's precision, milliseconds,
// as orders makes them; a finer one would be cut on the way and could
// seem to end a fraction of a millisecond early.
func dueIn(d time.Duration) time.Time {
	return time.Now().Add(d).Truncate(time.Millisecond)
}

type response struct {
	status int
	body   string
}

func get(t *testing.T, h http.Handler, path string) response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	b, err := io.ReadAll(rec.Result().Body)
	require.NoError(t, err)
	return response{rec.Code, string(b)}
}
