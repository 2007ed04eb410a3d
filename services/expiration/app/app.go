// Package app wires the expiration service: listeners that turn order and
// payment events into hold timers in Redis (asynq), the asynq server that
// fires them, and the health, readiness and metrics endpoints. run uses it,
// and so can tests that run the service in-process.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/ticketing/common/boot"
	"github.com/ticketing/common/events"
	"github.com/ticketing/common/httpx"
	"github.com/ticketing/services/expiration/internal/expiry"
	"github.com/ticketing/services/expiration/internal/listeners"
)

// A timer reaches a worker in two polls: asynq moves due tasks to the run
// queue every delayedCheckInterval and, when idle, looks at the run queue
// every taskCheckInterval (with jitter, up to 1.5 times that). Both together
// (at most 350 ms) must stay well inside expiry.Lead, the head start a timer
// gets before its expiresAt, so that the worker, not a poll, decides when
// it fires. Each poll is one small Lua script per queue: about 20 Redis
// calls a second per replica.
const (
	delayedCheckInterval = 200 * time.Millisecond
	taskCheckInterval    = 100 * time.Millisecond
)

// concurrency is how many timers may be in a worker at once. A worker holds
// its slot while it waits for expiresAt (up to expiry.Lead + 1 s) and then
// publishes, so this bounds how many holds can end per second on time
// (about concurrency / 2); a waiting slot is only a goroutine and a timer.
// Past that, timers queue in order of due second and fire late, never lost.
const concurrency = 512

// shutdownTimeout bounds how long Close waits for timers in workers, which
// covers one waiting for its expiresAt and publishing; a timer cut short
// goes back to Redis and fires again after a restart.
const shutdownTimeout = 3 * time.Second

// Deps is what the service needs from outside.
type Deps struct {
	Events *events.Conn       // connected NATS Streaming connection
	Redis  asynq.RedisConnOpt // where the timers live, e.g. asynq.RedisClientOpt{Addr, DB}
	Logger *slog.Logger       // nil = discard
	Now    func() time.Time   // nil = time.Now
}

// App is the wired service.
type App struct {
	deps  Deps
	log   *slog.Logger
	redis redis.UniversalClient
	// closeRedis closes redis and, under Sentinel, the enqueue client.
	closeRedis func() error
	client     *asynq.Client
	inspector  *asynq.Inspector
	server     *asynq.Server
	worker     *expiry.Worker
	sweep      *expiry.OrphanSweep
	timers     *expiry.Scheduler
	engine     *gin.Engine

	mu        sync.Mutex
	started   bool
	closed    bool
	listeners []*events.Listener
	stopSweep context.CancelFunc
	sweepDone chan struct{}
}

// New checks d and builds the service. It does not touch Redis or NATS yet.
func New(_ context.Context, d Deps) (*App, error) {
	d, err := d.withDefaults()
	if err != nil {
		return nil, err
	}
	rc, ok := d.Redis.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil, fmt.Errorf("expiration app: unsupported Redis option %T", d.Redis)
	}
	enqueue, replicaWait := rc, []expiry.SchedulerOption(nil)
	if failover, ok := d.Redis.(asynq.RedisFailoverClientOpt); ok {
		enqueue, replicaWait = replicatedEnqueue(failover)
	}
	closeRedis := func() error {
		err := rc.Close()
		if enqueue != rc {
			err = errors.Join(err, enqueue.Close())
		}
		return err
	}

	reg := prometheus.NewRegistry()
	metrics, err := expiry.NewMetrics(reg)
	if err != nil {
		_ = closeRedis()
		return nil, err
	}
	a := &App{
		deps:       d,
		log:        d.Logger,
		redis:      rc,
		closeRedis: closeRedis,
		client:     asynq.NewClientFromRedisClient(enqueue),
		inspector:  asynq.NewInspectorFromRedisClient(rc),
	}
	scheduler, err := expiry.NewScheduler(a.client, a.inspector, metrics, replicaWait...)
	if err != nil {
		_ = closeRedis()
		return nil, err
	}
	a.timers = scheduler
	a.worker, err = expiry.NewWorker(events.NewPublisher(d.Events), d.Logger, d.Now, metrics)
	if err != nil {
		_ = closeRedis()
		return nil, err
	}
	a.sweep, err = expiry.NewOrphanSweep(a.inspector, a.worker, d.Logger, 0)
	if err != nil {
		_ = closeRedis()
		return nil, err
	}
	a.server = newTimerServer(rc, d.Logger)
	a.engine, err = httpx.NewEngine(httpx.Config{
		Service:    "expiration",
		Logger:     d.Logger,
		Registry:   reg,
		Collectors: d.Events.Collectors(),
		Checks: []httpx.Check{
			{Name: "redis", Fn: func(ctx context.Context) error { return rc.Ping(ctx).Err() }},
		},
	})
	if err != nil {
		_ = closeRedis()
		return nil, err
	}
	return a, nil
}

// withDefaults checks that d has what the service cannot run without and
// fills in the rest.
func (d Deps) withDefaults() (Deps, error) {
	if err := boot.RequireDeps("expiration app",
		boot.Dep{Name: "Events", Missing: d.Events == nil},
		boot.Dep{Name: "Redis", Missing: d.Redis == nil},
	); err != nil {
		return d, err
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return d, nil
}

// newTimerServer is the asynq server that hands due timers to the worker.
func newTimerServer(rc redis.UniversalClient, log *slog.Logger) *asynq.Server {
	return asynq.NewServerFromRedisClient(rc, asynq.Config{
		Concurrency:              concurrency,
		Queues:                   map[string]int{expiry.Queue: 1},
		DelayedTaskCheckInterval: delayedCheckInterval,
		TaskCheckInterval:        taskCheckInterval,
		RetryDelayFunc:           expiry.RetryDelay,
		IsFailure:                expiry.IsFailure,
		ShutdownTimeout:          shutdownTimeout,
		Logger:                   asynqLogger{log.With("component", "asynq")},
		LogLevel:                 asynq.InfoLevel,
	})
}

// Handler serves /healthz, /readyz and /metrics; the service has no other routes.
func (a *App) Handler() http.Handler { return a.engine }

// Start fires due timers from now on, subscribes the listeners and starts
// the sweep for timers whose worker died; it returns once the listeners are
// subscribed.
func (a *App) Start(_ context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.closed:
		return errors.New("expiration app: start after close")
	case a.started:
		return errors.New("expiration app: already started")
	}
	mux := asynq.NewServeMux()
	mux.Handle(expiry.TaskType, a.worker)
	if err := a.server.Start(mux); err != nil {
		return fmt.Errorf("expiration app: start timer server: %w", err)
	}
	ls, err := listeners.Start(a.deps.Events, a.timers, a.log, events.WithLogger(a.log))
	if err != nil {
		a.server.Shutdown()
		return fmt.Errorf("expiration app: %w", err)
	}
	a.started, a.listeners = true, ls
	sweepCtx, stop := context.WithCancel(context.Background())
	a.stopSweep, a.sweepDone = stop, make(chan struct{})
	go func() {
		defer close(a.sweepDone)
		a.sweep.Run(sweepCtx)
	}()
	return nil
}

// Close stops the listeners (letting messages in hand be acked), then the
// timer server (letting firing timers finish, at most shutdownTimeout), and
// closes the Redis connections. The NATS connection belongs to the caller.
// Timers still pending stay in Redis for the next start.
func (a *App) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil
	}
	a.closed = true
	if a.stopSweep != nil {
		a.stopSweep()
		<-a.sweepDone
	}
	err := events.CloseAll(a.listeners)
	a.listeners = nil
	a.server.Shutdown() // does nothing if never started
	if cerr := a.closeRedis(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close redis: %w", cerr))
	}
	if err != nil {
		return fmt.Errorf("expiration app: close: %w", err)
	}
	return nil
}
