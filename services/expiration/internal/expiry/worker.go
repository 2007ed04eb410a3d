package expiry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ticketing/common/events"
)

// Publisher is the part of events.Publisher the worker needs.
type Publisher interface {
	PublishEvent(ctx context.Context, payload events.Payload) error
}

// Worker runs a timer when it fires: it publishes expiration:complete.
type Worker struct {
	pub     Publisher
	log     *slog.Logger
	now     func() time.Time
	metrics *Metrics
}

// NewWorker publishes through pub. log, now and metrics may be nil.
func NewWorker(pub Publisher, log *slog.Logger, now func() time.Time, metrics *Metrics) (*Worker, error) {
	if pub == nil {
		return nil, errors.New("expiry: worker needs a publisher")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Worker{pub: pub, log: log, now: now, metrics: metrics}, nil
}

// ProcessTask is the asynq handler: it waits for the order's expiresAt,
// then publishes expiration:complete. An error makes asynq run the task again
// later (RetryDelay), so a publish that fails is retried rather than lost;
// a payload that can never be processed is archived instead.
func (w *Worker) ProcessTask(ctx context.Context, t *asynq.Task) error {
	j, err := decodeJob(t.Payload())
	if err != nil {
		w.log.Error("dropping expiration task that can never be processed", "type", t.Type(), "err", err)
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	if err := w.waitUntil(ctx, j.ExpiresAt); err != nil {
		return fmt.Errorf("expiry: order %s: stopped before its expiresAt: %w", j.OrderID, err)
	}
	return w.fire(ctx, j)
}

// fire publishes the hold's expiration:complete and records how late it
// went out. Both the task's own run and the orphan sweep end a hold here.
func (w *Worker) fire(ctx context.Context, j Job) error {
	if err := w.pub.PublishEvent(ctx, events.ExpirationComplete{OrderID: j.OrderID}); err != nil {
		w.log.Warn("publishing expiration:complete failed; will retry", "orderId", j.OrderID, "err", err)
		return fmt.Errorf("expiry: publish expiration:complete for order %s: %w", j.OrderID, err)
	}
	late := w.now().Sub(j.ExpiresAt)
	w.metrics.fired(late)
	w.log.Info("order hold expired", "orderId", j.OrderID, "lateBy", late.String())
	return nil
}

// waitUntil returns at t by the worker's clock, or at once if t has passed
// (a retry, a restart, a zero time from an older payload). The task arrives
// up to Lead + 1 s early; a timer, not a poll, makes the publish land within
// milliseconds of t. It gives up when ctx ends (the task's deadline, or the
// task cancelled through asynq) and publishes nothing then: the task runs
// again later.
func (w *Worker) waitUntil(ctx context.Context, t time.Time) error {
	d := t.Sub(w.now())
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// IsFailure tells asynq which errors use up a task's retries: not a NATS
// outage, however long, since the event must still go out when NATS is back.
func IsFailure(err error) bool {
	return !errors.Is(err, events.ErrNotConnected)
}

// maxRetryDelay caps the wait between runs of a failing task.
const maxRetryDelay = 30 * time.Second

// RetryDelay is asynq's RetryDelayFunc: 1 s doubling up to 30 s. asynq's own
// default starts at 15 s and grows to hours, far too slow for a hold that
// should end on time. n counts only failures (see IsFailure),
// so during an outage the task is tried every second.
func RetryDelay(n int, _ error, _ *asynq.Task) time.Duration {
	if n >= 5 {
		return maxRetryDelay
	}
	return min(time.Second<<max(n, 0), maxRetryDelay)
}
