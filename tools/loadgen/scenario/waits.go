package scenario

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ticketing/tools/loadgen/client"
)

// errGone says the thing waited for can no longer happen (the ticket was
// taken, the order was cancelled).
var errGone = errors.New("no longer possible")

// reserve orders a ticket as soon as the orders service knows it (404
// until its ticket:created arrives) and records the lag from createdAt.
func (e *Env) reserve(ctx context.Context, buyer *client.User, ticketID string, createdAt time.Time) (client.Order, error) {
	deadline := createdAt.Add(e.EventTimeout)
	retried := false
	for {
		var o client.Order
		var res client.Response
		r, err := e.stepRetried(ctx, func() error {
			var err error
			o, res, err = buyer.Reserve(ctx, ticketID)
			return err
		})
		retried = retried || r
		if err != nil {
			return o, err
		}
		switch res.Status {
		case http.StatusCreated:
			e.Rec.Lag(LagOrderable, time.Since(createdAt))
			e.Ledger.Order(OrderRecord{ID: o.ID, TicketID: ticketID, ExpiresAt: o.ExpiresAt})
			return o, nil
		case http.StatusBadRequest:
			if retried && res.Message() == client.MsgTicketReserved {
				// An earlier try reached the service although its answer
				// was lost: that order holds the ticket until it lapses.
				return o, fmt.Errorf("reserve %s: the order of a try whose answer was lost holds it: %w", ticketID, errGone)
			}
			return o, fmt.Errorf("reserve %s: 400 %s", ticketID, res.Message())
		}
		if time.Now().After(deadline) {
			return o, fmt.Errorf("ticket %s not orderable %s after it was created", ticketID, e.EventTimeout)
		}
		if !sleep(ctx, e.Poll) {
			return o, ctx.Err()
		}
	}
}

// pay pays for an order as soon as the payments service knows it (404
// until its order:created arrives, asked again every poll) and returns when
// the payment was taken. An order that has lapsed or was cancelled meanwhile
// is errGone.
func (e *Env) pay(ctx context.Context, buyer *client.User, o client.Order, poll time.Duration) (time.Time, error) {
	deadline := time.Now().Add(e.EventTimeout)
	retried := false
	for {
		var res client.Response
		r, err := e.stepRetried(ctx, func() error {
			var err error
			res, err = buyer.Pay(ctx, o.ID, "tok_visa")
			return err
		})
		retried = retried || r
		if err != nil {
			return time.Time{}, err
		}
		switch res.Status {
		case http.StatusCreated:
			e.Ledger.MarkPaid(o.ID)
			return time.Now(), nil
		case http.StatusBadRequest:
			switch msg := res.Message(); {
			case msg == client.MsgAlreadyPaid && retried:
				e.Ledger.MarkPaid(o.ID)
				return time.Now(), nil
			case msg == client.MsgOrderExpired || msg == client.MsgOrderCancelled:
				return time.Time{}, fmt.Errorf("pay %s: %s: %w", o.ID, msg, errGone)
			default:
				return time.Time{}, fmt.Errorf("pay %s: 400 %s", o.ID, msg)
			}
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("payments did not learn of order %s within %s", o.ID, e.EventTimeout)
		}
		if !sleep(ctx, poll) {
			return time.Time{}, ctx.Err()
		}
	}
}

// awaitStatus polls an order until it has status want, and returns when it
// was seen so. Seeing it end in another final state is errGone.
func (e *Env) awaitStatus(ctx context.Context, buyer *client.User, id, want string, timeout, poll time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for {
		var o client.Order
		err := e.step(ctx, func() error {
			var err error
			o, err = buyer.GetOrder(ctx, id)
			return err
		})
		if err != nil {
			return time.Time{}, err
		}
		if o.Status == want {
			return time.Now(), nil
		}
		if o.Status == client.StatusCancelled || o.Status == client.StatusComplete {
			return time.Time{}, fmt.Errorf("order %s is %s, not %s: %w", id, o.Status, want, errGone)
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("order %s still %s after %s, want %s", id, o.Status, timeout, want)
		}
		if !sleep(ctx, poll) {
			return time.Time{}, ctx.Err()
		}
	}
}

// holdPoll is how often a lapsing hold is looked at, so the lapse figures
// have that resolution. maxHoldPollers bounds the holds looked at in
// parallel.
const (
	holdPoll       = 100 * time.Millisecond
	maxHoldPollers = 8
)

// hold is an order left unpaid, watched until it is seen cancelled.
type hold struct {
	buyer *client.User
	order client.Order
	phase int // the recorder's phase that made it, where its lag belongs
}

// holdTracker watches every hold with one loop: each poll looks at each
// hold past its expiresAt (GET /api/orders/:id), so none waits for another
// to be seen first. A buyer's whole list (GET /api/orders) would be one
// request for several holds, but it costs the orders service a search by
// user, which the local store answers by reading every order: polled ten
// times a second, that search was what the other requests queued behind.
type holdTracker struct {
	ctx     context.Context
	cancel  context.CancelFunc
	start   sync.Once
	done    chan struct{} // closed when the loop has returned
	mu      sync.Mutex
	pending map[string]hold // by order id
	// unjudged counts holds whose lapse was never seen, because the run
	// ended first.
	unjudged atomic.Int64
}

func newHoldTracker() holdTracker {
	ctx, cancel := context.WithCancel(context.Background())
	return holdTracker{ctx: ctx, cancel: cancel, done: make(chan struct{}), pending: map[string]hold{}}
}

// WatchHold starts watching an order that nobody will pay, measuring how
// long after its expiresAt it is seen cancelled. The watch outlives the
// scenario that started it; WaitHolds waits for it.
func (e *Env) WatchHold(buyer *client.User, o client.Order) {
	e.Rec.Add("holds left to lapse", 1)
	h := &e.holds
	h.mu.Lock()
	h.pending[o.ID] = hold{buyer: buyer, order: o, phase: e.Rec.Phase()}
	h.mu.Unlock()
	h.start.Do(func() { go e.watchHolds() })
}

func (e *Env) watchHolds() {
	h := &e.holds
	defer close(h.done)
	t := time.NewTicker(holdPoll)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		var due []hold
		h.mu.Lock()
		for _, x := range h.pending {
			if !now.Before(x.order.ExpiresAt) {
				due = append(due, x)
			}
		}
		h.mu.Unlock()
		sem := make(chan struct{}, maxHoldPollers)
		var wg sync.WaitGroup
		for _, x := range due {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				e.lookAtHold(x)
			})
		}
		wg.Wait()
	}
}

// lookAtHold reads one hold's order and settles the hold if it can.
func (e *Env) lookAtHold(x hold) {
	h := &e.holds
	o, err := x.buyer.GetOrder(h.ctx, x.order.ID)
	seen := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err != nil:
		// Asked again at the next poll, unless it is overdue below.
	case o.Status == client.StatusCancelled:
		e.Rec.LagIn(x.phase, LagExpired, seen.Sub(x.order.ExpiresAt))
		delete(h.pending, x.order.ID)
		return
	case o.Status == client.StatusComplete:
		e.Ledger.Problem(fmt.Sprintf("order %s that nobody paid for is complete", x.order.ID))
		delete(h.pending, x.order.ID)
		return
	}
	if seen.After(x.order.ExpiresAt.Add(e.EventTimeout)) {
		e.Ledger.Fail(fmt.Sprintf("hold of order %s still not lapsed %s after its expiresAt", x.order.ID, e.EventTimeout))
		delete(h.pending, x.order.ID)
	}
}

// WaitHolds waits until every watched hold has been seen to lapse or given
// up on, or until ctx ends; then it stops watching. It returns how many
// holds were not judged.
func (e *Env) WaitHolds(ctx context.Context) int {
	h := &e.holds
	t := time.NewTicker(holdPoll)
	defer t.Stop()
	for {
		h.mu.Lock()
		n := len(h.pending)
		h.mu.Unlock()
		if n == 0 || ctx.Err() != nil {
			h.cancel()
			h.start.Do(func() { close(h.done) }) // never started
			<-h.done
			h.mu.Lock()
			defer h.mu.Unlock()
			h.unjudged.Add(int64(len(h.pending)))
			h.pending = map[string]hold{}
			return int(h.unjudged.Load())
		}
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}
