// Package expiry holds an order's hold timer: a task in Redis (asynq) that
// fires at the order's expiresAt and publishes expiration:complete.
package expiry

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ticketing/common/events"
)

// TaskType names the hold timer's tasks in Redis. It is stored with every
// scheduled task, so changing it orphans the tasks already scheduled.
const TaskType = "order:expiration"

// Queue is the asynq queue the timers live in. A queue of its own keeps them
// apart from any other asynq user of the same Redis database.
const Queue = "expiration"

// ErrBadJob marks a task whose payload can never be processed.
var ErrBadJob = errors.New("bad expiration task payload")

// Job is a task's payload. ExpiresAt is kept only to measure how late the
// timer fired.
type Job struct {
	OrderID   string    `json:"orderId"`
	ExpiresAt time.Time `json:"expiresAt"`
}

func newTask(j Job) (*asynq.Task, error) {
	data, err := json.Marshal(j)
	if err != nil {
		return nil, fmt.Errorf("expiry: encode task for order %s: %w", j.OrderID, err)
	}
	return asynq.NewTask(TaskType, data), nil
}

// decodeJob reads a task's payload and checks the order id, which is what
// the published event must carry.
func decodeJob(data []byte) (Job, error) {
	var j Job
	if err := json.Unmarshal(data, &j); err != nil {
		return Job{}, fmt.Errorf("%w: %w", ErrBadJob, err)
	}
	if !events.IsObjectID(j.OrderID) {
		return Job{}, fmt.Errorf("%w: orderId %q is not a 24-hex id", ErrBadJob, j.OrderID)
	}
	return j, nil
}

// processAt is when the task may run. asynq keeps due times in whole seconds
// and runs a task once the current second reaches its due second, so the
// due time is rounded up: the timer never fires before expiresAt, when the
// buyer may still pay.
func processAt(expiresAt time.Time) time.Time {
	t := expiresAt.Truncate(time.Second)
	if t.Before(expiresAt) {
		t = t.Add(time.Second)
	}
	return t
}
