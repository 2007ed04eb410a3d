package scenario

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ticketing/tools/loadgen/client"
)

// Names of the scenarios.
const (
	Browse   = "browse"
	Purchase = "purchase"
	Race     = "race"
	Edits    = "edits"
	Rush     = "rush"
)

// Names lists every scenario.
func Names() []string { return []string{Browse, Purchase, Race, Edits, Rush} }

// FirstPhase names the phase a scenario starts in: a scenario with a set-up
// that is not part of its figures (rush: its sign-ups and listings) starts
// in "<name> set-up" and begins its own phase when the load starts.
func FirstPhase(name string) string {
	if name == Rush {
		return Rush + " set-up"
	}
	return name
}

// Run plays one scenario by name.
func Run(ctx context.Context, e *Env, name string, opt Options) error {
	switch name {
	case Browse:
		return e.Browse(ctx, opt)
	case Purchase:
		return e.Purchase(ctx, opt)
	case Race:
		return e.Race(ctx, opt)
	case Edits:
		return e.Edits(ctx, opt)
	case Rush:
		return e.Rush(ctx, opt)
	}
	return fmt.Errorf("unknown scenario %q (want one of %v)", name, Names())
}

// price is a random price with two decimals, between 1 and 500.
func price() float64 { return float64(100+rand.IntN(49_900)) / 100 }

// Browse is anonymous visitors listing the tickets on sale and opening one.
// It first makes sure opt.BrowseSeed tickets exist.
func (e *Env) Browse(ctx context.Context, opt Options) error {
	visitor := e.Client.Anonymous()
	var seeded []string
	if opt.BrowseSeed > 0 {
		var list []client.Ticket
		err := e.step(ctx, func() error {
			var err error
			list, err = visitor.ListTickets(ctx, opt.BrowseSeed)
			return err
		})
		if err != nil {
			return fmt.Errorf("browse: list the tickets on sale: %w", err)
		}
		if missing := opt.BrowseSeed - len(list); missing > 0 {
			seller, err := e.SignUp(ctx, "browse-seller")
			if err != nil {
				return fmt.Errorf("browse: sign up a seller: %w", err)
			}
			for i := range missing {
				var t client.Ticket
				err := e.step(ctx, func() error {
					var err error
					t, err = seller.CreateTicket(ctx, fmt.Sprintf("loadgen %s browse %d", e.RunID, i), price())
					return err
				})
				if err != nil {
					return fmt.Errorf("browse: create a ticket: %w", err)
				}
				e.Ledger.Ticket(TicketRecord{ID: t.ID, WantVersion: -1})
				seeded = append(seeded, t.ID)
			}
		}
	}
	e.runFlows(ctx, opt, Browse, func(ctx context.Context, _, _ int) error {
		list, err := visitor.ListTickets(ctx, opt.BrowseLimit)
		if err != nil {
			return err
		}
		var id string
		switch {
		case len(list) > 0:
			id = list[rand.IntN(len(list))].ID
		case len(seeded) > 0:
			id = seeded[rand.IntN(len(seeded))]
		default:
			return nil
		}
		_, err = visitor.GetTicket(ctx, id)
		return err
	})
	return nil
}

// Purchase is sellers listing tickets and buyers reserving and paying for
// them: per flow, a new ticket is created, the buyer looks at the list,
// reserves it as soon as the orders service knows it, pays as soon as the
// payments service knows the order, and waits for the order to be complete.
// Every opt.AbandonEvery-th flow leaves its order unpaid, to lapse.
func (e *Env) Purchase(ctx context.Context, opt Options) error {
	type pair struct{ seller, buyer *client.User }
	pairs := make([]pair, opt.concurrency())
	if err := e.parallel(ctx, len(pairs), func(ctx context.Context, i int) error {
		var err error
		if pairs[i].seller, err = e.SignUp(ctx, "seller"); err != nil {
			return err
		}
		pairs[i].buyer, err = e.SignUp(ctx, "buyer")
		return err
	}); err != nil {
		return fmt.Errorf("purchase: sign up: %w", err)
	}
	e.runFlows(ctx, opt, Purchase, func(ctx context.Context, w, n int) error {
		abandon := opt.AbandonEvery > 0 && n%opt.AbandonEvery == opt.AbandonEvery-1
		return e.purchaseOnce(ctx, pairs[w].seller, pairs[w].buyer, n, abandon)
	})
	return nil
}

func (e *Env) purchaseOnce(ctx context.Context, seller, buyer *client.User, n int, abandon bool) error {
	var t client.Ticket
	err := e.step(ctx, func() error {
		var err error
		t, err = seller.CreateTicket(ctx, fmt.Sprintf("loadgen %s purchase %d", e.RunID, n), price())
		return err
	})
	if err != nil {
		return err
	}
	created := time.Now()
	e.Ledger.Ticket(TicketRecord{ID: t.ID, WantVersion: -1})
	e.Rec.Add("tickets created", 1)

	// What a buyer looks at first; the new ticket need not be on the first
	// page yet, so its content is not judged.
	if err := e.step(ctx, func() error { _, err := buyer.ListTickets(ctx, 0); return err }); err != nil {
		return err
	}
	o, err := e.reserve(ctx, buyer, t.ID, created)
	if err != nil {
		return err
	}
	e.Rec.Add("orders created", 1)
	if abandon {
		e.WatchHold(buyer, o)
		return nil
	}
	paidAt, err := e.pay(ctx, buyer, o, e.Poll)
	if errors.Is(err, errGone) {
		// Paid too late (the hold lapsed while the load queued us): the
		// order is cancelled or about to be; watch it lapse.
		e.Rec.Add("payments too late", 1)
		e.WatchHold(buyer, o)
		return nil
	}
	if err != nil {
		return err
	}
	e.Rec.Add("payments", 1)
	done, err := e.awaitStatus(ctx, buyer, o.ID, client.StatusComplete, e.EventTimeout, e.Poll)
	if errors.Is(err, errGone) {
		// A payment taken just before expiresAt can lose the race with the
		// hold's end; payments then refunds it, which the checks verify.
		e.Rec.Add("paid orders cancelled by their hold's end", 1)
		return nil
	}
	if err != nil {
		return err
	}
	e.Rec.Lag(LagComplete, done.Sub(paidAt))
	return nil
}

// Edits is the seed's concurrency check: each flow creates a ticket at
// price 5 and updates it to 10 and then 15; opt.Concurrency flows are in
// flight together. Each ticket must end at price 15 and version 2 in the
// tickets service and in the orders service's replica.
func (e *Env) Edits(ctx context.Context, opt Options) error {
	seller, err := e.SignUp(ctx, "editor")
	if err != nil {
		return fmt.Errorf("edits: sign up the seller: %w", err)
	}
	if opt.Count == 0 && opt.Duration == 0 {
		opt.Count = opt.concurrency()
	}
	e.runFlows(ctx, opt, Edits, func(ctx context.Context, _, n int) error {
		title := fmt.Sprintf("loadgen %s edits %d", e.RunID, n)
		var t client.Ticket
		// A retried create that had reached the service leaves one more
		// ticket; that one stays at version 0, which the checks allow.
		err := e.step(ctx, func() error {
			var err error
			t, err = seller.CreateTicket(ctx, title, 5)
			return err
		})
		if err != nil {
			return err
		}
		rec := TicketRecord{ID: t.ID, WantVersion: -1}
		e.Ledger.Ticket(rec)
		e.Rec.Add("tickets created", 1)
		version := t.Version
		anyRetry := false
		for _, p := range []float64{10, 15} {
			var got client.Ticket
			retried, err := e.stepRetried(ctx, func() error {
				var err error
				got, _, err = seller.UpdateTicket(ctx, t.ID, title, p)
				return err
			})
			if err != nil {
				return err
			}
			anyRetry = anyRetry || retried
			if got.Price != p || (!anyRetry && got.Version != version+1) {
				e.Ledger.Problem(fmt.Sprintf("edit of ticket %s to %v answered price %v version %d after version %d", t.ID, p, got.Price, got.Version, version))
			}
			version = got.Version
			e.Rec.Add("tickets updated", 1)
		}
		rec.WantPrice, rec.WantVersion = 15, 2
		if anyRetry {
			// A retried update may have been applied twice.
			rec.WantVersion = -1
		}
		e.Ledger.Ticket(rec)
		return nil
	})
	return nil
}

// setupWidth is how many set-up requests (sign-ups, listings) run at once:
// enough to keep a service busy, few enough that the set-up is not itself
// a storm (a sign-up costs a password hash).
const setupWidth = 8

// parallel runs f for 0..n-1, setupWidth at once, and returns the first
// error. It is for a scenario's set-up.
func (e *Env) parallel(ctx context.Context, n int, f func(ctx context.Context, i int) error) error {
	return parallelN(ctx, n, setupWidth, f)
}

// parallelN runs f for 0..n-1, at most width at once, and returns the first
// error; the first error stops what has not started.
func parallelN(ctx context.Context, n, width int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, max(width, 1))
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := f(ctx, i); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		})
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return first
}
