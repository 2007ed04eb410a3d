// Package expiry holds an order's hold timer: a task in Redis (asynq) that
// fires at the order's expiresAt and publishes expiration:complete.
package expiry

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ticketing/common/ids"
)

// TaskType names the hold timer's tasks in Redis. It is stored with every
// scheduled task, so changing it orphans the tasks already scheduled.
const TaskType = "order:expiration"

// Queue is the asynq queue the timers live in. A queue of its own keeps them
// apart from any other asynq user of the same Redis database.
const Queue = "expiration"

// ErrBadJob marks a task whose payload can never be processed.
var ErrBadJob = errors.New("bad expiration task payload")

// Job is a task's payload. The worker waits for ExpiresAt before it
// publishes, since asynq hands the task over early (see Lead).
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
	if !ids.IsObjectID(j.OrderID) {
		return Job{}, fmt.Errorf("%w: orderId %q is not a 24-hex id", ErrBadJob, j.OrderID)
	}
	return j, nil
}

// Lead is how long before expiresAt, at least, a timer is handed to a
// worker, which then waits for expiresAt itself (Worker.ProcessTask). asynq
// keeps due times in whole seconds and moves due tasks to its run queue only
// when it polls, so a task due at expiresAt would fire up to a second plus a
// poll late. Handed over early, the timer's precision is the worker's own
// clock. Lead must exceed the server's two polls (scheduled, then run queue)
// with room for a loaded machine; see the expiration app's intervals.
const Lead = time.Second

// processAt is when asynq may hand the task to a worker: the whole second at
// or before expiresAt - Lead, since asynq drops the fraction anyway (it
// runs a task once the current Unix second reaches its due second).
func processAt(expiresAt time.Time) time.Time {
	return expiresAt.Add(-Lead).Truncate(time.Second)
}
