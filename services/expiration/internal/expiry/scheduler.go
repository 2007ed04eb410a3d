package expiry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

const (
	// retention keeps a fired task in Redis as a marker, so an order:created
	// redelivered after its hold ended does not schedule (and fire) again.
	retention = 24 * time.Hour
	// maxRetry bounds the failed publishes (see IsFailure for outages, which
	// do not count); with RetryDelay's cap it is about 50 minutes of trying.
	maxRetry = 100
	// taskTimeout bounds one run; a publish waits at most the connection's
	// ack wait (5 s), so this only catches a hang.
	taskTimeout = time.Minute
)

// Scheduler puts hold timers into Redis and takes them out again.
type Scheduler struct {
	client    *asynq.Client
	inspector *asynq.Inspector
	metrics   *Metrics
	// replicated, when set, returns once the timers written so far are on
	// a replica too, or an error.
	replicated func(ctx context.Context) error
}

// SchedulerOption tunes a Scheduler.
type SchedulerOption func(*Scheduler)

// WithReplicaWait makes Schedule wait, after writing a timer, until wait
// says a replica has it. Redis replicates asynchronously: a master killed
// right after a write loses it in the failover, and a lost timer is a hold
// that never ends (seen in the fault suite with Redis under Sentinel: five
// orders created in the second before the master was killed stayed
// reserved). Until a replica has the timer, Schedule fails, so the
// order:created stays unacked and comes back to be scheduled again.
func WithReplicaWait(wait func(ctx context.Context) error) SchedulerOption {
	return func(s *Scheduler) { s.replicated = wait }
}

// NewScheduler uses client to schedule and inspector to cancel. metrics may
// be nil.
func NewScheduler(client *asynq.Client, inspector *asynq.Inspector, metrics *Metrics, opts ...SchedulerOption) (*Scheduler, error) {
	if client == nil || inspector == nil {
		return nil, errors.New("expiry: scheduler needs an asynq client and inspector")
	}
	s := &Scheduler{client: client, inspector: inspector, metrics: metrics}
	for _, opt := range opts {
		opt(s)
	}
	return s, nil
}

// Schedule makes orderID's timer fire at expiresAt (at once if that has
// passed): asynq hands it to a worker at least Lead early, and the worker
// waits for expiresAt. The order id is the task id, so Redis itself refuses a second
// timer for the order, however many replicas race: scheduled is false when
// the order already had one.
func (s *Scheduler) Schedule(ctx context.Context, orderID string, expiresAt time.Time) (scheduled bool, err error) {
	task, err := newTask(Job{OrderID: orderID, ExpiresAt: expiresAt.UTC()})
	if err != nil {
		return false, err
	}
	_, err = s.client.EnqueueContext(ctx, task,
		asynq.TaskID(orderID),
		asynq.Queue(Queue),
		asynq.ProcessAt(processAt(expiresAt)),
		asynq.MaxRetry(maxRetry),
		asynq.Retention(retention),
		asynq.Timeout(taskTimeout),
	)
	switch {
	case errors.Is(err, asynq.ErrTaskIDConflict):
		s.metrics.duplicate()
		return false, s.waitForReplica(ctx, orderID)
	case err != nil:
		return false, fmt.Errorf("expiry: schedule order %s: %w", orderID, err)
	}
	s.metrics.scheduled()
	return true, s.waitForReplica(ctx, orderID)
}

// waitForReplica applies WithReplicaWait, if set. A repeat of an order
// whose timer exists waits too: the first try may have failed right here.
//
// After the wait it looks the timer up on the master of now. The wait
// speaks only for the connection it is sent on: when the master dies
// between the write and the wait, the Redis client dials the new master
// and sends the wait there, where it has nothing to wait for and returns
// at once, while the timer went down with the old master. Found on the
// master of now, the timer is safe; missing, the order:created is failed
// and comes back to be scheduled on the new master. A timer cancelled in
// the millisecond between the write and the look-up (the order paid at
// once) reads as missing too: the order:created comes back and schedules
// a timer again, whose expiration:complete orders ignores for an order no
// longer waiting (seen once in a fault run; it costs one event).
func (s *Scheduler) waitForReplica(ctx context.Context, orderID string) error {
	if s.replicated == nil {
		return nil
	}
	if err := s.replicated(ctx); err != nil {
		return fmt.Errorf("expiry: timer of order %s is not on a replica yet: %w", orderID, err)
	}
	if _, err := s.inspector.GetTaskInfo(Queue, orderID); err != nil {
		return fmt.Errorf("expiry: timer of order %s is not on the master after the replica wait (lost in a failover?): %w", orderID, err)
	}
	return nil
}

// Cancel removes orderID's pending timer, once the order is cancelled or
// paid. cancelled is false when there was nothing to remove: no timer, or
// one that is firing or has fired (its event is out or going out, and
// orders ignores it for an order that is no longer waiting). A timer is
// firing from up to Lead + 1 s before expiresAt on, while a worker waits
// for expiresAt. A fired timer
// stays as the marker that keeps a repeated order:created from scheduling
// again.
func (s *Scheduler) Cancel(orderID string) (cancelled bool, err error) {
	if settled, err := s.settled(orderID); settled || err != nil {
		return false, err
	}
	err = s.inspector.DeleteTask(Queue, orderID)
	if err == nil {
		s.metrics.cancelled()
		return true, nil
	}
	if notFound(err) {
		return false, nil
	}
	// It may have started firing since it was looked at, which asynq refuses
	// to delete; anything else is a real failure.
	if settled, serr := s.settled(orderID); settled && serr == nil {
		return false, nil
	}
	return false, fmt.Errorf("expiry: cancel order %s: %w", orderID, err)
}

// settled reports whether orderID's timer is gone, firing or fired.
func (s *Scheduler) settled(orderID string) (bool, error) {
	info, err := s.inspector.GetTaskInfo(Queue, orderID)
	switch {
	case notFound(err):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("expiry: look up order %s: %w", orderID, err)
	}
	return info.State == asynq.TaskStateActive || info.State == asynq.TaskStateCompleted, nil
}

// notFound covers the queue too: it does not exist until the first timer.
func notFound(err error) bool {
	return errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound)
}
