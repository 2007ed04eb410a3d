package expiry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
)

// A timer reaches its worker up to Lead + 1 s before expiresAt and waits
// there (Worker.waitUntil). If the process dies meanwhile, asynq keeps the
// task "active" under a lease that lapses 30 s after the worker's last
// heartbeat, and its recoverer takes back only tasks whose lease lapsed 30 s
// ago, once a minute: the hold would end 60 to 120 s late. The sweep ends
// such a hold as soon as its lease has lapsed, about 30 to 35 s after the
// crash. It leaves the task itself to asynq, whose later run publishes
// expiration:complete a second time; the orders service ignores that for an
// order already cancelled (CONTRACT.md §3), so each order is still
// cancelled once.

// DefaultOrphanSweepInterval is how often the sweep looks; one small list
// per look, next to the 30 s lease it waits out.
const DefaultOrphanSweepInterval = 5 * time.Second

// orphanPageSize is how many active tasks one list reads.
const orphanPageSize = 200

// ActiveTasks is the part of asynq's Inspector the sweep reads.
type ActiveTasks interface {
	ListActiveTasks(queue string, opts ...asynq.ListOption) ([]*asynq.TaskInfo, error)
}

// OrphanSweep ends the holds whose timer was taken by a worker that died.
type OrphanSweep struct {
	tasks    ActiveTasks
	worker   *Worker
	log      *slog.Logger
	interval time.Duration
	// ended holds the tasks this process has ended, so each is published
	// once, not on every look; a task leaves it once asynq moves it on.
	ended map[string]bool
}

// NewOrphanSweep reads active timers through tasks and ends orphaned ones
// through worker. log may be nil; interval 0 means the default.
func NewOrphanSweep(tasks ActiveTasks, worker *Worker, log *slog.Logger, interval time.Duration) (*OrphanSweep, error) {
	if tasks == nil || worker == nil {
		return nil, errors.New("expiry: orphan sweep needs the active tasks and a worker")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if interval <= 0 {
		interval = DefaultOrphanSweepInterval
	}
	return &OrphanSweep{tasks: tasks, worker: worker, log: log, interval: interval, ended: map[string]bool{}}, nil
}

// Run looks every interval until ctx ends. A failed look is logged and
// tried again at the next one.
func (s *OrphanSweep) Run(ctx context.Context) {
	ticker := time.NewTicker(s.interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("looking for orphaned hold timers failed; trying again", "err", err)
			}
		}
	}
}

// Sweep looks once and publishes expiration:complete for every orphaned
// timer whose expiresAt has passed; it returns how many it ended.
func (s *OrphanSweep) Sweep(ctx context.Context) (int, error) {
	active, err := s.active()
	if err != nil {
		return 0, err
	}
	seen := make(map[string]bool, len(active))
	ended := 0
	for _, t := range active {
		seen[t.ID] = true
		if !t.IsOrphaned || s.ended[t.ID] {
			continue
		}
		j, err := decodeJob(t.Payload)
		if err != nil {
			s.log.Error("orphaned expiration task can never be processed; leaving it to asynq", "taskId", t.ID, "err", err)
			s.ended[t.ID] = true
			continue
		}
		if s.worker.now().Before(j.ExpiresAt) {
			continue
		}
		if err := s.worker.fire(ctx, j); err != nil {
			continue // logged by fire; the next look tries again
		}
		s.log.Info("ended the hold of a timer whose worker died", "orderId", j.OrderID)
		s.ended[t.ID] = true
		ended++
	}
	for id := range s.ended {
		if !seen[id] {
			delete(s.ended, id)
		}
	}
	return ended, nil
}

// active lists every active timer, page by page.
func (s *OrphanSweep) active() ([]*asynq.TaskInfo, error) {
	var all []*asynq.TaskInfo
	for page := 1; ; page++ {
		infos, err := s.tasks.ListActiveTasks(Queue, asynq.PageSize(orphanPageSize), asynq.Page(page))
		if errors.Is(err, asynq.ErrQueueNotFound) {
			return nil, nil // no timer was ever scheduled
		}
		if err != nil {
			return nil, fmt.Errorf("expiry: list active timers: %w", err)
		}
		all = append(all, infos...)
		if len(infos) < orphanPageSize {
			return all, nil
		}
	}
}
