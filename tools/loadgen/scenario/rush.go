package scenario

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ticketing/tools/loadgen/client"
)

// Lag names of the rush scenario.
const (
	// LagSold is, per ticket, from the first buyer's arrival until the
	// order that bought it was seen complete.
	LagSold = "rush start → ticket sold"
	// LagAllSold is one sample: from the first arrival until the last
	// ticket was seen sold, recorded only when every ticket was.
	LagAllSold = "rush start → every ticket sold"
	// LagBackOnSale is, per lapsed hold, from its expiresAt until the
	// ticket was seen on sale again (GET /api/tickets/:id without an order).
	LagBackOnSale = "expiresAt → ticket back on sale"
)

// RushOptions describe the rush: Buyers arrive within Arrival, spread
// evenly, for Tickets listed beforehand.
type RushOptions struct {
	Buyers  int
	Tickets int
	Arrival time.Duration
	// LapsePercent of the winners let their hold lapse instead of paying.
	LapsePercent int
	// Tries is how many times a buyer who lost a ticket goes back to the
	// list for another before giving up.
	Tries int
	// ListLimit is the page size of the buyers' GET /api/tickets (0: the
	// API's default, 100).
	ListLimit int
	// Poll is how often a winner asks again whether payments knows the
	// order, or whether it is complete, and how often a waiting buyer looks
	// at a lapsing ticket: a person does not ask 40 times a second.
	Poll time.Duration
	// SignUpWidth bounds the sign-ups in flight during the set-up.
	SignUpWidth int
}

// withDefaults fills what was left zero.
func (r RushOptions) withDefaults() RushOptions {
	if r.Tries <= 0 {
		r.Tries = 3
	}
	if r.Poll <= 0 {
		r.Poll = 100 * time.Millisecond
	}
	if r.SignUpWidth <= 0 {
		r.SignUpWidth = setupWidth
	}
	return r
}

// lapses says whether the k-th winner (from 0) of a rush lets the hold
// lapse, so that exactly percent of every hundred winners do, spread evenly.
func lapses(k, percent int) bool {
	return (k+1)*percent/100 > k*percent/100
}

// arrivalOffset is when, after the rush starts, buyer i of n arrives: evenly
// spread over window, the first at 0.
func arrivalOffset(i, n int, window time.Duration) time.Duration {
	if n <= 0 {
		return 0
	}
	return time.Duration(int64(window) * int64(i) / int64(n))
}

// Rush is a crowd arriving for a sale: opt.Rush.Tickets tickets are listed
// by sellers and opt.Rush.Buyers buyers signed up beforehand (the set-up,
// outside the scenario's figures); then every buyer arrives within
// opt.Rush.Arrival, looks at the list (GET /api/tickets), opens one ticket
// on it (GET /api/tickets/:id) and tries to reserve it (POST /api/orders).
// A buyer who loses goes back to the list, up to Tries times. Winners pay
// (POST /api/payments) and wait for their order to be complete, except
// LapsePercent of them, who let the hold lapse. A ticket whose hold lapsed,
// or that nobody reserved, goes to a buyer who came away empty-handed, who
// watches it from its expiresAt and buys it (and pays) once it is on sale
// again. The scenario ends when every ticket is sold or EventTimeout past
// its last hold's expiresAt.
//
// A ticket is decided when the order that bought it is seen complete; the
// time until every ticket is decided is LagAllSold.
func (e *Env) Rush(ctx context.Context, opt Options) error {
	r := opt.Rush.withDefaults()
	if r.Buyers <= 0 || r.Tickets <= 0 {
		return errors.New("rush: needs a positive number of buyers and tickets")
	}
	book := &rushBook{tickets: make(map[string]*rushTicket, r.Tickets)}
	ids, err := e.rushListTickets(ctx, r, book)
	if err != nil {
		return err
	}
	buyers := make([]*client.User, r.Buyers)
	var signedUp atomic.Int64
	stop := e.progress(ctx, "rush: buyers signed up", r.Buyers, &signedUp)
	err = parallelN(ctx, r.Buyers, r.SignUpWidth, func(ctx context.Context, i int) error {
		var err error
		buyers[i], err = e.SignUp(ctx, "rush-buyer")
		signedUp.Add(1)
		return err
	})
	stop()
	if err != nil {
		return fmt.Errorf("rush: sign up the buyers: %w", err)
	}
	forSale := make(map[string]bool, len(ids))
	for _, id := range ids {
		forSale[id] = true
	}

	e.Rec.BeginPhase(Rush)
	e.Rec.Add("tickets on sale", len(ids))
	e.Rec.Add("buyers", len(buyers))
	// A short lead lets every goroutine be ready before the first arrival.
	start := time.Now().Add(50 * time.Millisecond)
	emptyHanded := make([]bool, len(buyers))
	var wg sync.WaitGroup
	for i, b := range buyers {
		wg.Go(func() {
			if !sleep(ctx, time.Until(start.Add(arrivalOffset(i, len(buyers), r.Arrival)))) {
				return
			}
			won, err := e.rushBuyer(ctx, r, book, forSale, b, start)
			if err != nil && ctx.Err() == nil {
				e.Ledger.Fail(fmt.Sprintf("rush buyer %d: %v", i, err))
				e.Rec.Add("buyers failed", 1)
			}
			emptyHanded[i] = !won && err == nil
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}

	// What the crowd left: tickets whose hold lapses, or that nobody got.
	var left []string
	for _, id := range ids {
		book.update(id, func(t *rushTicket) {
			if t.soldAt.IsZero() {
				left = append(left, id)
			}
		})
	}
	var waiting []*client.User
	for i, b := range buyers {
		if emptyHanded[i] {
			waiting = append(waiting, b)
		}
	}
	if len(waiting) == 0 {
		waiting = buyers
	}
	e.Rec.Add("tickets left to waiting buyers", len(left))
	var wg2 sync.WaitGroup
	for i, id := range left {
		wg2.Go(func() {
			if err := e.rushWaitingBuyer(ctx, r, book, waiting[i%len(waiting)], id, start); err != nil && ctx.Err() == nil {
				e.Ledger.Fail(fmt.Sprintf("rush: ticket %s: %v", id, err))
			}
		})
	}
	wg2.Wait()

	var last time.Time
	unsold := 0
	for _, id := range ids {
		book.update(id, func(t *rushTicket) {
			if t.soldAt.IsZero() {
				unsold++
			} else if t.soldAt.After(last) {
				last = t.soldAt
			}
		})
	}
	if unsold > 0 {
		e.Rec.Add("tickets not sold", unsold)
		e.Ledger.Fail(fmt.Sprintf("rush: %d of %d tickets were not sold", unsold, len(ids)))
	} else {
		e.Rec.Lag(LagAllSold, last.Sub(start))
	}
	return nil
}

// rushListTickets signs up sellers and lists the tickets of the sale.
func (e *Env) rushListTickets(ctx context.Context, r RushOptions, book *rushBook) ([]string, error) {
	sellers := make([]*client.User, min(setupWidth, r.Tickets))
	if err := e.parallel(ctx, len(sellers), func(ctx context.Context, i int) error {
		var err error
		sellers[i], err = e.SignUp(ctx, "rush-seller")
		return err
	}); err != nil {
		return nil, fmt.Errorf("rush: sign up the sellers: %w", err)
	}
	ids := make([]string, r.Tickets)
	if err := e.parallel(ctx, r.Tickets, func(ctx context.Context, i int) error {
		return e.step(ctx, func() error {
			t, err := sellers[i%len(sellers)].CreateTicket(ctx, fmt.Sprintf("loadgen %s rush %d", e.RunID, i), price())
			ids[i] = t.ID
			return err
		})
	}); err != nil {
		return nil, fmt.Errorf("rush: list the tickets: %w", err)
	}
	for _, id := range ids {
		e.Ledger.Ticket(TicketRecord{ID: id, WantVersion: -1})
		book.tickets[id] = &rushTicket{id: id}
	}
	return ids, nil
}

// rushBuyer is one buyer of the crowd. It reports whether the buyer won a
// ticket (paid for or left to lapse).
func (e *Env) rushBuyer(ctx context.Context, r RushOptions, book *rushBook, forSale map[string]bool, b *client.User, start time.Time) (bool, error) {
	for range r.Tries {
		list, err := b.ListTickets(ctx, r.ListLimit)
		if err != nil {
			return false, err
		}
		var candidates []string
		for _, t := range list {
			if forSale[t.ID] {
				candidates = append(candidates, t.ID)
			}
		}
		if len(candidates) == 0 {
			e.Rec.Add("buyers who found the sale over", 1)
			return false, nil
		}
		id := candidates[rand.IntN(len(candidates))]
		t, err := b.GetTicket(ctx, id)
		if err != nil {
			return false, err
		}
		if t.Reserved() {
			e.Rec.Add("tickets seen reserved on opening", 1)
			continue
		}
		o, res, err := b.Reserve(ctx, id)
		if err != nil {
			return false, err
		}
		switch res.Status {
		case http.StatusCreated:
		case http.StatusBadRequest:
			if msg := res.Message(); msg != client.MsgTicketReserved {
				return false, fmt.Errorf("reserve %s: 400 %s", id, msg)
			}
			e.Rec.Add("reservations lost", 1)
			continue
		default: // 404: orders has not heard of the ticket yet
			e.Rec.Add("reservations of a ticket orders did not know yet", 1)
			continue
		}
		e.Rec.Add("reservations won", 1)
		e.Ledger.Order(OrderRecord{ID: o.ID, TicketID: id, ExpiresAt: o.ExpiresAt})
		if double := book.won(id, o, time.Now()); double != "" {
			e.Ledger.Problem(double)
		}
		if lapses(int(book.wins.Add(1)-1), r.LapsePercent) {
			book.update(id, func(t *rushTicket) { t.lapsing = true })
			e.WatchHold(b, o)
			return true, nil
		}
		return true, e.rushPay(ctx, r, book, b, id, o, start)
	}
	e.Rec.Add("buyers who gave up", 1)
	return false, nil
}

// rushPay pays for a won order and waits until it is complete. A payment
// too late for the hold leaves the ticket to a waiting buyer.
func (e *Env) rushPay(ctx context.Context, r RushOptions, book *rushBook, b *client.User, id string, o client.Order, start time.Time) error {
	paidAt, err := e.pay(ctx, b, o, r.Poll)
	if errors.Is(err, errGone) {
		e.Rec.Add("payments too late", 1)
		book.update(id, func(t *rushTicket) { t.lapsing = true })
		e.WatchHold(b, o)
		return nil
	}
	if err != nil {
		return err
	}
	book.update(id, func(t *rushTicket) { t.paid = true })
	e.Rec.Add("payments", 1)
	done, err := e.awaitStatus(ctx, b, o.ID, client.StatusComplete, e.EventTimeout, r.Poll)
	if errors.Is(err, errGone) {
		// The hold ended first; payments refunds the charge (the checks
		// verify that) and the ticket goes back on sale.
		e.Rec.Add("paid orders cancelled by their hold's end", 1)
		book.update(id, func(t *rushTicket) { t.paid, t.lapsing = false, true })
		return nil
	}
	if err != nil {
		return err
	}
	e.Rec.Lag(LagComplete, done.Sub(paidAt))
	e.Rec.Lag(LagSold, done.Sub(start))
	e.Rec.Add("tickets sold", 1)
	if double := book.sold(id, o.ID, done); double != "" {
		e.Ledger.Problem(double)
	}
	return nil
}

// rushWaitingBuyer buys a ticket the crowd left: from the expiresAt of the
// hold on it (if any) it looks at the ticket every r.Poll until it is on
// sale again, then reserves it and pays, until the ticket is sold or
// EventTimeout has passed since the hold's end.
func (e *Env) rushWaitingBuyer(ctx context.Context, r RushOptions, book *rushBook, b *client.User, id string, start time.Time) error {
	var expiresAt time.Time
	book.update(id, func(t *rushTicket) {
		if t.order != nil {
			expiresAt = t.order.ExpiresAt
		}
	})
	deadline := time.Now().Add(e.EventTimeout)
	if expiresAt.After(time.Now()) {
		deadline = expiresAt.Add(e.EventTimeout)
		if !sleep(ctx, time.Until(expiresAt)) {
			return ctx.Err()
		}
	}
	for {
		t, err := b.GetTicket(ctx, id)
		if err != nil {
			return err
		}
		if !t.Reserved() {
			book.update(id, func(rt *rushTicket) {
				if rt.order != nil && !rt.backSeen {
					rt.backSeen = true
					e.Rec.Lag(LagBackOnSale, time.Since(rt.order.ExpiresAt))
				}
			})
			o, res, err := b.Reserve(ctx, id)
			if err != nil {
				return err
			}
			if res.Status == http.StatusCreated {
				e.Ledger.Order(OrderRecord{ID: o.ID, TicketID: id, ExpiresAt: o.ExpiresAt})
				if double := book.won(id, o, time.Now()); double != "" {
					e.Ledger.Problem(double)
				}
				e.Rec.Add("tickets bought by a waiting buyer", 1)
				if err := e.rushPay(ctx, r, book, b, id, o, start); err != nil {
					return err
				}
				sold := false
				book.update(id, func(rt *rushTicket) {
					sold = !rt.soldAt.IsZero()
					expiresAt = rt.order.ExpiresAt
				})
				if sold {
					return nil
				}
				// Paid too late: wait for this hold to end too.
				deadline = expiresAt.Add(e.EventTimeout)
				if !sleep(ctx, time.Until(expiresAt)) {
					return ctx.Err()
				}
				continue
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not on sale again within %s (last seen: order %q, status %q)", e.EventTimeout, t.OrderID, t.Status)
		}
		if !sleep(ctx, r.Poll) {
			return ctx.Err()
		}
	}
}
