package check

import (
	"context"
	"fmt"
	"time"

	"github.com/ticketing/tools/loadgen/scenario"
)

// NameHTTP is the check of what the run saw in the answers themselves.
const NameHTTP = "guarantees broken in HTTP answers"

// Options say how long to wait for the state to settle.
type Options struct {
	// Grace is how long after its expiresAt an order may still be created
	// (the contract's hold + 5 s).
	Grace time.Duration
	// Settle bounds the wait for events in flight to land and for holds to
	// lapse; the checks judge the state as it is then.
	Settle time.Duration
	// Poll is the pause between two snapshots.
	Poll time.Duration
	Now  func() time.Time
	Logf func(format string, args ...any)
}

func (o *Options) defaults() {
	if o.Grace == 0 {
		o.Grace = 5 * time.Second
	}
	if o.Poll == 0 {
		o.Poll = 500 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
}

// Evaluate judges one snapshot against what the run recorded.
func Evaluate(s Snapshot, ledger *scenario.Ledger, grace time.Duration) (results []Result, pending int, nextDue time.Time) {
	stuck, pending, nextDue := StuckOrders(s, grace)
	orders, tickets := ledger.Orders(), ledger.Tickets()
	results = []Result{
		httpProblems(ledger),
		DoubleReservations(s),
		ReplicaTickets(s),
		Reservations(s),
		PaymentsReplica(s),
		stuck,
		Charges(s),
		PaidOrders(s, orders),
		RunOrders(s, orders),
		Edits(s, tickets),
		Outboxes(s),
	}
	return results, pending, nextDue
}

func httpProblems(ledger *scenario.Ledger) Result {
	v := newVerdict(NameHTTP)
	n, examples := ledger.Problems()
	v.r.Failures, v.r.Examples = n, examples
	return v.done()
}

// Outcome is the last verdicts and how long the state took to get there.
type Outcome struct {
	Results []Result
	// Waited is how long Run waited; Settled says whether every check
	// passed by then (otherwise Settle ran out).
	Waited  time.Duration
	Settled bool
}

// memory keeps what one snapshot saw that a later one cannot undo: a
// ticket held by two orders, an order still created past its hold + grace.
// Either fails the run even if the order lapses before the last snapshot.
type memory struct {
	double *Result
	late   map[string]string // order id -> what was seen
}

// apply folds s into the memory and the memory into results, and returns
// how many of the failing results waiting cannot change.
func (m *memory) apply(s Snapshot, grace time.Duration, results []Result) (permanent int) {
	if m.late == nil {
		m.late = map[string]string{}
	}
	for _, id := range sortedKeys(s.Orders) {
		o := s.Orders[id]
		if o.Status == "created" && s.At.After(o.ExpiresAt.Add(grace)) {
			if _, ok := m.late[id]; !ok {
				m.late[id] = fmt.Sprintf("order %s still created %s after its expiresAt %s", id,
					s.At.Sub(o.ExpiresAt).Round(time.Millisecond), o.ExpiresAt.Format(time.RFC3339Nano))
			}
		}
	}
	for i, r := range results {
		switch r.Name {
		case NameDoubleReservations:
			if r.Failed() && m.double == nil {
				first := r
				m.double = &first
			}
			if m.double != nil {
				if !r.Failed() {
					results[i] = *m.double
					results[i].Detail = "seen in an earlier snapshot"
				}
				permanent++
			}
		case NameStuckOrders:
			if len(m.late) == 0 {
				continue
			}
			still := r.Failures
			r.Status, r.Failures, r.Examples = StatusFail, len(m.late), nil
			for _, id := range sortedKeys(m.late) {
				if len(r.Examples) < maxExamples {
					r.Examples = append(r.Examples, m.late[id])
				}
			}
			r.Detail = fmt.Sprintf("%d seen still created past their hold + %s; %d still are", len(m.late), grace, still)
			results[i] = r
			permanent++
		}
	}
	return permanent
}

// Run takes snapshots until every check passes and every hold has been
// judged, or until Settle has passed, and returns the last verdicts. A
// database that does not answer (it may be restarting) is retried until
// then too.
func Run(ctx context.Context, dbs DBs, ledger *scenario.Ledger, opt Options) (Outcome, error) {
	opt.defaults()
	start := opt.Now()
	deadline := start.Add(opt.Settle)
	var mem memory
	for {
		s, err := Take(ctx, dbs, opt.Now())
		if err != nil {
			if ctx.Err() != nil || opt.Now().After(deadline) {
				return Outcome{Waited: opt.Now().Sub(start)}, err
			}
			opt.Logf("checks: %v; trying again", err)
		} else {
			results, pending, nextDue := Evaluate(s, ledger, opt.Grace)
			permanent := mem.apply(s, opt.Grace, results)
			failing := 0
			for _, r := range results {
				if r.Failed() {
					failing++
				}
			}
			now := opt.Now()
			out := Outcome{Results: results, Waited: now.Sub(start), Settled: failing == 0}
			// Failures that waiting cannot undo do not keep us waiting.
			if failing == permanent && (pending == 0 || nextDue.After(deadline)) || now.After(deadline) {
				return out, nil
			}
			opt.Logf("checks: %d failing, %d holds not yet due; waiting up to %s", failing, pending, deadline.Sub(now).Round(time.Second))
		}
		t := time.NewTimer(opt.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return Outcome{Waited: opt.Now().Sub(start)}, ctx.Err()
		case <-t.C:
		}
	}
}
