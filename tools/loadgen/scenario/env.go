// Package scenario drives the named load scenarios of the load generator
// (browse, purchase, race, edits) over the public API, measures the lags of
// the events behind them, and keeps a ledger of what it did so the checks
// can judge the end state.
package scenario

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ticketing/tools/loadgen/client"
	"github.com/ticketing/tools/loadgen/stats"
)

// Lag names, as reports show them.
const (
	LagOrderable = "ticket created → orderable"
	LagComplete  = "payment → order complete"
	LagExpired   = "expiresAt → order cancelled"
)

// Env is what every scenario of one run shares.
type Env struct {
	Client *client.Client
	Rec    *stats.Recorder
	Ledger *Ledger
	// RunID makes this run's e-mail addresses unique.
	RunID    string
	Password string
	// RetryServerErrors makes a step that got a 5xx or no answer try again
	// until EventTimeout, as a person would while a service restarts (the
	// fault suite). Without it such an answer ends the flow as failed.
	RetryServerErrors bool
	// EventTimeout bounds every wait for an event's effect (a ticket
	// becoming orderable, an order completing, a hold lapsing past its
	// expiresAt) and every retried step.
	EventTimeout time.Duration
	// Poll is the pause between two looks at something on its way.
	Poll time.Duration
	Logf func(format string, args ...any)
	// Progress reports how far a long set-up (seeding, sign-ups) got; the
	// command prints it whether or not it is verbose.
	Progress func(format string, args ...any)

	users atomic.Int64
	holds holdTracker
}

// NewEnv (the only way to make an Env) fills in defaults: a 30 s event timeout, a 25 ms poll, a fresh
// ledger, no logging.
func NewEnv(c *client.Client, rec *stats.Recorder, runID string) *Env {
	return &Env{
		Client:       c,
		Rec:          rec,
		Ledger:       NewLedger(),
		RunID:        runID,
		Password:     "loadgen-pw1",
		EventTimeout: 30 * time.Second,
		Poll:         25 * time.Millisecond,
		Logf:         func(string, ...any) {},
		Progress:     func(string, ...any) {},
		holds:        newHoldTracker(),
	}
}

// SignUp creates a fresh user whose address says what it is for.
func (e *Env) SignUp(ctx context.Context, kind string) (*client.User, error) {
	n := e.users.Add(1)
	email := fmt.Sprintf("%s-%s-%d@loadgen.test", kind, e.RunID, n)
	var u *client.User
	err := e.step(ctx, func() error {
		var err error
		u, err = e.Client.SignUp(ctx, email, e.Password)
		return err
	})
	return u, err
}

// step runs f once, or, with RetryServerErrors, again after each 5xx or
// missing answer until EventTimeout. It reports whether f was retried, since
// a retried write may have been applied twice.
func (e *Env) step(ctx context.Context, f func() error) error {
	_, err := e.stepRetried(ctx, f)
	return err
}

func (e *Env) stepRetried(ctx context.Context, f func() error) (retried bool, err error) {
	deadline := time.Now().Add(e.EventTimeout)
	backoff := 50 * time.Millisecond
	for {
		err = f()
		if err == nil || !e.RetryServerErrors || !client.IsServerError(err) || time.Now().After(deadline) {
			return retried, err
		}
		retried = true
		if !sleep(ctx, backoff) {
			return retried, ctx.Err()
		}
		backoff = min(backoff*2, time.Second)
	}
}

// sleep waits d or until ctx ends; false if ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Options say how much load a scenario makes.
type Options struct {
	// Concurrency is how many flows run at once (edits: sequences in
	// flight; race: tickets raced at once).
	Concurrency int
	// Duration ends the scenario after this long; Count after this many
	// flows. With both, whichever comes first. The race scenario's count
	// is RaceTickets.
	Duration time.Duration
	Count    int
	// AbandonEvery leaves every n-th purchase unpaid so its hold lapses
	// (0: pay for all).
	AbandonEvery int
	RaceTickets  int
	RaceBuyers   int
	// BrowseSeed is how many tickets browse makes sure exist.
	BrowseSeed int
	// BrowseLimit is the page size browse asks for (GET
	// /api/tickets?limit=n; 0: the API's default).
	BrowseLimit int
	// Rush says how the rush scenario's crowd behaves.
	Rush RushOptions
	// Pace is how long each flow's worker waits before starting its next
	// flow: a think time that keeps the load below what the fleet can
	// absorb, for runs that test something other than its limit (0: none).
	Pace time.Duration
}

func (o Options) concurrency() int { return max(o.Concurrency, 1) }

// errDone says the scenario has no more flows to start.
var errDone = errors.New("done")

// budget hands out flow numbers until Count is reached.
type budget struct {
	count int64
	next  atomic.Int64
}

func (b *budget) take() (int, error) {
	n := b.next.Add(1) - 1
	if b.count > 0 && n >= b.count {
		return 0, errDone
	}
	return int(n), nil
}

// runFlows runs flow in opt.Concurrency workers until Duration or Count is
// used up. A flow's error is recorded as a failed flow, not returned: one
// failure must not stop the load.
func (e *Env) runFlows(ctx context.Context, opt Options, name string, flow func(ctx context.Context, worker, n int) error) {
	if opt.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opt.Duration)
		defer cancel()
	}
	b := &budget{count: int64(opt.Count)}
	var wg sync.WaitGroup
	for w := range opt.concurrency() {
		wg.Go(func() {
			for ctx.Err() == nil {
				n, err := b.take()
				if err != nil {
					return
				}
				if err := flow(ctx, w, n); err != nil && ctx.Err() == nil {
					e.Ledger.Fail(fmt.Sprintf("%s flow %d: %v", name, n, err))
					e.Rec.Add("flows failed", 1)
				} else if ctx.Err() == nil {
					e.Rec.Add("flows completed", 1)
				}
				if opt.Pace > 0 {
					select {
					case <-ctx.Done():
					case <-time.After(opt.Pace):
					}
				}
			}
		})
	}
	wg.Wait()
}
