package scenario

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/ticketing/tools/loadgen/client"
)

// progressEvery is how often a long set-up says how far it got.
const progressEvery = 5 * time.Second

// Seed lists n tickets through the API before the scenarios, so they run
// against a large store: width sellers list them side by side. It is set-up,
// not load to judge: the caller runs it in a phase of its own.
func (e *Env) Seed(ctx context.Context, n, width int) error {
	if n <= 0 {
		return nil
	}
	width = min(max(width, 1), n)
	sellers := make([]*client.User, width)
	if err := e.parallel(ctx, width, func(ctx context.Context, i int) error {
		var err error
		sellers[i], err = e.SignUp(ctx, "seed-seller")
		return err
	}); err != nil {
		return fmt.Errorf("seed: sign up the sellers: %w", err)
	}
	var done atomic.Int64
	stop := e.progress(ctx, "seed: tickets listed", n, &done)
	defer stop()
	next := atomic.Int64{}
	err := parallelN(ctx, width, width, func(ctx context.Context, w int) error {
		for {
			i := next.Add(1) - 1
			if i >= int64(n) {
				return nil
			}
			var t client.Ticket
			err := e.step(ctx, func() error {
				var err error
				t, err = sellers[w].CreateTicket(ctx, fmt.Sprintf("loadgen %s seed %d", e.RunID, i), price())
				return err
			})
			if err != nil {
				return fmt.Errorf("seed: ticket %d: %w", i, err)
			}
			e.Ledger.Ticket(TicketRecord{ID: t.ID, WantVersion: -1})
			done.Add(1)
		}
	})
	e.Rec.Add("tickets seeded", int(done.Load()))
	return err
}

// progress reports done/total through Progress every progressEvery until
// the returned stop is called, which reports the last figure.
func (e *Env) progress(ctx context.Context, what string, total int, done *atomic.Int64) (stop func()) {
	start := time.Now()
	report := func() {
		n := done.Load()
		secs := time.Since(start).Seconds()
		e.Progress("%s: %d of %d in %.0f s (%.0f/s)", what, n, total, secs, float64(n)/max(secs, 0.001))
	}
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-quit:
				return
			case <-t.C:
				report()
			}
		}
	}()
	return func() {
		close(quit)
		<-finished
		report()
	}
}
