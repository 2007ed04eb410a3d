package main

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/ticketing/tools/loadgen/check"
	"github.com/ticketing/tools/loadgen/scenario"
	"github.com/ticketing/tools/loadgen/stats"
)

// LagAgree is, per edited ticket, how long after the edits' last answer
// the orders service's replica was seen holding its final price and version
// (which the tickets service held when it answered).
const LagAgree = "last answer → replicas agree"

// agreementPoll is the pause between two reads of the replica: each one
// reads every ticket, so the read itself sets the resolution.
const agreementPoll = 100 * time.Millisecond

// agreementWatch measures, in the background, how long after the edits the
// replicas agree; wait returns once it has.
type agreementWatch struct{ done chan struct{} }

// watchAgreement starts measuring from now, recording into the current
// phase (the edits').
func watchAgreement(ctx context.Context, dbs check.DBs, env *scenario.Env, rec *stats.Recorder, limit time.Duration, logf func(string, ...any)) *agreementWatch {
	since, phase := time.Now(), rec.Phase()
	want := env.Ledger.Tickets()
	w := &agreementWatch{done: make(chan struct{})}
	go func() {
		defer close(w.done)
		out, err := check.WatchAgreement(ctx, dbs, want, since, limit, agreementPoll)
		for _, d := range out.Lags {
			rec.LagIn(phase, LagAgree, d)
		}
		logf("replicas: %d edited tickets agreed (%d snapshots), %d did not within %s", len(out.Lags), out.Snapshots, out.Missing, limit)
		if out.Missing > 0 {
			env.Ledger.Fail(fmt.Sprintf("edits: %d tickets' replicas did not agree within %s of the last answer", out.Missing, limit))
		}
		if err != nil && ctx.Err() == nil {
			env.Ledger.Fail(fmt.Sprintf("edits: watching the replicas agree: %v", err))
		}
	}()
	return w
}

func (w *agreementWatch) wait() {
	if w != nil {
		<-w.done
	}
}

// storedTickets records how many tickets the store holds as a scenario
// starts, so a figure can say what size of store it was measured at.
func storedTickets(ctx context.Context, dbs check.DBs, rec *stats.Recorder, logf func(string, ...any)) {
	if dbs.Tickets == nil {
		return
	}
	n, err := dbs.Tickets.Collection("tickets").CountDocuments(ctx, bson.M{})
	if err != nil {
		logf("count the stored tickets: %v", err)
		return
	}
	rec.Add("tickets stored at start", int(n))
}
