package scenario

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/ticketing/tools/loadgen/client"
)

// Race is many buyers trying to reserve one ticket at the same moment:
// opt.RaceTickets tickets, opt.RaceBuyers buyers each, opt.Concurrency
// tickets raced at once. Exactly one buyer may win each ticket. Half of the
// winners cancel their order at once; the other half leave it to lapse.
func (e *Env) Race(ctx context.Context, opt Options) error {
	if opt.RaceTickets <= 0 || opt.RaceBuyers <= 0 {
		return errors.New("race: needs a positive number of tickets and buyers")
	}
	seller, err := e.SignUp(ctx, "race-seller")
	if err != nil {
		return fmt.Errorf("race: sign up the seller: %w", err)
	}
	buyers := make([]*client.User, opt.RaceBuyers)
	if err := e.parallel(ctx, len(buyers), func(ctx context.Context, i int) error {
		var err error
		buyers[i], err = e.SignUp(ctx, "race-buyer")
		return err
	}); err != nil {
		return fmt.Errorf("race: sign up the buyers: %w", err)
	}
	tickets := make([]client.Ticket, opt.RaceTickets)
	if err := e.parallel(ctx, len(tickets), func(ctx context.Context, i int) error {
		return e.step(ctx, func() error {
			var err error
			tickets[i], err = seller.CreateTicket(ctx, fmt.Sprintf("loadgen %s race %d", e.RunID, i), price())
			return err
		})
	}); err != nil {
		return fmt.Errorf("race: create the tickets: %w", err)
	}
	for _, t := range tickets {
		e.Ledger.Ticket(TicketRecord{ID: t.ID, WantVersion: -1})
	}
	e.Rec.Add("tickets raced", len(tickets))

	opt.Count = len(tickets)
	opt.Duration = 0 // every ticket is raced once, however long it takes
	e.runFlows(ctx, opt, Race, func(ctx context.Context, _, n int) error {
		return e.raceOnce(ctx, tickets[n], buyers, n%2 == 0)
	})
	return nil
}

// raceOnce sends every buyer's reservation for t at once, in rounds: while
// the orders service has not heard of the ticket, every buyer gets 404 and
// they all try again together.
func (e *Env) raceOnce(ctx context.Context, t client.Ticket, buyers []*client.User, cancelWin bool) error {
	type result struct {
		order client.Order
		res   client.Response
		err   error
	}
	deadline := time.Now().Add(e.EventTimeout)
	wins := 0
	for round := 1; ; round++ {
		results := make([]result, len(buyers))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, b := range buyers {
			wg.Go(func() {
				<-start
				r := &results[i]
				r.order, r.res, r.err = b.Reserve(ctx, t.ID)
			})
		}
		close(start)
		wg.Wait()

		decided := false
		var winner *client.User
		var won client.Order
		var firstErr error
		for i, r := range results {
			switch {
			case r.err != nil:
				firstErr = cmpOr(firstErr, r.err)
			case r.res.Status == http.StatusCreated:
				wins++
				decided = true
				winner, won = buyers[i], r.order
				e.Ledger.Order(OrderRecord{ID: r.order.ID, TicketID: t.ID, ExpiresAt: r.order.ExpiresAt})
			case r.res.Status == http.StatusBadRequest:
				decided = true
				if msg := r.res.Message(); msg != client.MsgTicketReserved {
					firstErr = cmpOr(firstErr, fmt.Errorf("reserve %s: 400 %s", t.ID, msg))
				}
			}
		}
		if wins > 1 {
			e.Ledger.Problem(fmt.Sprintf("double reservation: %d buyers won ticket %s", wins, t.ID))
		}
		if decided {
			e.Rec.Add("races decided", 1)
			if wins == 0 {
				// Some buyer's answer was lost (a 5xx or no answer) after
				// its order was stored; the checks find that order.
				return fmt.Errorf("race for %s: every answer was 'reserved' or lost: %w", t.ID, cmpOr(firstErr, errors.New("no winner")))
			}
			if firstErr != nil && !e.RetryServerErrors {
				return firstErr
			}
			if cancelWin {
				return e.step(ctx, func() error { return winner.CancelOrder(ctx, won.ID) })
			}
			e.WatchHold(winner, won)
			return nil
		}
		if firstErr != nil && !(e.RetryServerErrors && client.IsServerError(firstErr)) {
			return firstErr
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ticket %s not orderable after %d rounds in %s", t.ID, round, e.EventTimeout)
		}
		if !sleep(ctx, e.Poll) {
			return ctx.Err()
		}
	}
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
