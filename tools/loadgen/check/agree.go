package check

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/ticketing/tools/loadgen/scenario"
)

// Agreeing returns the tickets of want (those whose final state the run
// knows: WantPrice set) that replica holds in that state.
func Agreeing(replica map[string]Ticket, want map[string]scenario.TicketRecord) map[string]bool {
	out := map[string]bool{}
	for id, w := range want {
		if w.WantPrice == 0 {
			continue
		}
		at := func(t Ticket, ok bool) bool {
			return ok && t.Price == w.WantPrice && (w.WantVersion < 0 || t.Version == w.WantVersion)
		}
		if r, ok := replica[id]; at(r, ok) {
			out[id] = true
		}
	}
	return out
}

// AgreeOutcome is how long after a moment (the last answer of the edits)
// each edited ticket was first seen in its final state in the orders
// service's replica. The tickets service held it when it answered the last
// update; Edits and ReplicaTickets judge both again at the end.
type AgreeOutcome struct {
	// Lags holds one duration per ticket that agreed: the end of the
	// first snapshot that showed it agreeing, minus the moment; 0 for one
	// that agreed before it. Each is an upper bound with the resolution of
	// one snapshot.
	Lags []time.Duration
	// Missing counts the tickets that did not agree before the limit.
	Missing int
	// Snapshots is how many snapshots it took.
	Snapshots int
}

// WatchAgreement reads the orders service's replica of the tickets again and
// again (poll apart) until every ticket of want with a final state is there
// in that state or timeout has passed, and returns when each one was first
// seen so, counted from since. Only the replica is read, and only the fields
// compared, so that watching costs the shared store as little as it can.
func WatchAgreement(ctx context.Context, dbs DBs, want map[string]scenario.TicketRecord, since time.Time, timeout, poll time.Duration) (AgreeOutcome, error) {
	var out AgreeOutcome
	if dbs.Orders == nil {
		return out, fmt.Errorf("replica agreement needs the orders database")
	}
	pending := map[string]bool{}
	for id, w := range want {
		if w.WantPrice != 0 {
			pending[id] = true
		}
	}
	deadline := time.Now().Add(timeout)
	for len(pending) > 0 {
		replica, err := readReplicaState(ctx, dbs.Orders.Collection(collTickets))
		if err == nil {
			seen := time.Now()
			out.Snapshots++
			for id := range Agreeing(replica, want) {
				if pending[id] {
					delete(pending, id)
					out.Lags = append(out.Lags, max(seen.Sub(since), 0))
				}
			}
		}
		if ctx.Err() != nil {
			out.Missing = len(pending)
			return out, ctx.Err()
		}
		if len(pending) == 0 {
			break
		}
		if time.Now().After(deadline) {
			out.Missing = len(pending)
			if err != nil {
				return out, fmt.Errorf("read the orders service's tickets: %w", err)
			}
			return out, nil
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	return out, nil
}

// readReplicaState reads the price and version of every ticket in coll.
func readReplicaState(ctx context.Context, coll *mongo.Collection) (map[string]Ticket, error) {
	cur, err := coll.Find(ctx, bson.M{}, options.Find().SetProjection(bson.M{"price": 1, "version": 1}))
	if err != nil {
		return nil, err
	}
	var docs []struct {
		ID      primitive.ObjectID `bson:"_id"`
		Price   float64            `bson:"price"`
		Version int64              `bson:"version"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make(map[string]Ticket, len(docs))
	for _, d := range docs {
		out[d.ID.Hex()] = Ticket{ID: d.ID.Hex(), Price: d.Price, Version: d.Version}
	}
	return out, nil
}
