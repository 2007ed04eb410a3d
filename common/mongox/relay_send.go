package mongox

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// sendNamed sends the pending events of the records Notify named, several
// records at a time (Workers): each record's events still go out in order,
// since a record is named once per call and handled by one worker, but the
// relay's reads and removals wait in the database pool's queue side by side
// instead of one after another, which kept events seconds behind a burst of
// requests on a one-connection pool.
//
// It returns how many events it published.
func (r *Relay) sendNamed(ctx context.Context, ids []any) int {
	work := make(chan any)
	var (
		wg        sync.WaitGroup
		published atomic.Int64
	)
	for range min(r.opts.Workers, len(ids)) {
		wg.Go(func() {
			for id := range work {
				published.Add(int64(r.send(ctx, id, nil)))
			}
		})
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		work <- id
	}
	close(work)
	wg.Wait()
	return int(published.Load())
}

// send sends record id's pending events, starting from d when the caller
// has just read it. A record that another relay was sending at the same
// time is read again; one that fails is remembered for a retry.
func (r *Relay) send(ctx context.Context, id any, d *pending) (published int) {
	for range maxRereads {
		if ctx.Err() != nil {
			return published
		}
		if d == nil {
			var rec pending
			err := r.coll.FindOne(ctx, bson.M{fieldID: id}, options.FindOne().SetProjection(bson.M{fieldOutbox: 1})).Decode(&rec)
			switch {
			case errors.Is(err, mongo.ErrNoDocuments):
				return published
			case err != nil:
				if ctx.Err() == nil {
					r.logger.Warn("outbox relay: read record, will retry", "id", id, "err", err)
					r.addRetry(id)
				}
				return published
			}
			d = &rec
		}
		n, res := r.sendRecord(ctx, *d)
		published += n
		switch res {
		case sendDone:
			return published
		case sendFailed:
			if ctx.Err() == nil {
				r.addRetry(id)
			}
			return published
		}
		d = nil // sendRaced
	}
	r.addRetry(id)
	return published
}

// drain sends every pending record in one pass over one cursor, so a
// backlog of any size costs one read of the pending records (one scan of
// the collection on FerretDB, which filters after reading, where a query
// per batch would scan once per batch). Records that fail are retried from
// memory; records written meanwhile were notified.
func (r *Relay) drain(ctx context.Context) {
	opts := options.Find().
		SetProjection(bson.M{fieldOutbox: 1}).
		SetBatchSize(int32(min(r.opts.BatchSize, math.MaxInt32)))
	cur, err := r.coll.Find(ctx, pendingFilter(), opts)
	if err != nil {
		if ctx.Err() == nil {
			r.logger.Error("outbox relay: find pending events", "err", err)
		}
		return
	}
	defer func() { _ = cur.Close(context.WithoutCancel(ctx)) }()
	for cur.Next(ctx) {
		var d pending
		if err := cur.Decode(&d); err != nil {
			r.logger.Error("outbox relay: decode pending record", "err", err)
			continue
		}
		r.send(ctx, d.ID, &d)
	}
	if err := cur.Err(); err != nil && ctx.Err() == nil {
		r.logger.Error("outbox relay: read pending events", "err", err)
	}
}

// pending is what a sweep reads of a record. _id is kept as any so the relay
// works whatever type a collection uses for its ids.
type pending struct {
	ID     any           `bson:"_id"`
	Outbox []OutboxEvent `bson:"outbox"`
}

// pendingFilter finds records whose outbox has at least one event, in the
// form PendingIndex answers (a sparse index serves $exists: true). Checked
// on FerretDB: it matches neither a missing, null nor empty outbox.
func pendingFilter() bson.M {
	return bson.M{fieldOutbox + ".0": bson.M{"$exists": true}}
}

// How one pass over a record's events ended.
type sendResult int

const (
	sendDone   sendResult = iota // every event read was sent and removed
	sendFailed                   // a publish or removal failed: try later
	sendRaced                    // another relay removed the head: read again
)

// sendRecord publishes one record's events head first and removes each after
// its publish. It stops at the first failure so that a later event of the
// record is never sent before an earlier one; the retry starts again from
// the head.
func (r *Relay) sendRecord(ctx context.Context, d pending) (published int, res sendResult) {
	for i, ev := range d.Outbox {
		if ctx.Err() != nil {
			return published, sendFailed
		}
		if ev.ID == "" {
			// Without an id the head cannot be removed safely, and sending it
			// anyway would repeat it on every sweep. UpdateVersioned refuses
			// such events; this one was written some other way.
			r.logger.Error("outbox relay: pending event has no id, record is stuck until it is fixed",
				"id", d.ID, "subject", ev.Subject)
			return published, sendDone
		}
		if err := r.publish(ctx, ev); err != nil {
			if ctx.Err() == nil {
				r.logger.Warn("outbox relay: publish failed, will retry",
					"id", d.ID, "event", ev.ID, "subject", ev.Subject, "err", err)
			}
			return published, sendFailed
		}
		published++
		r.logger.Debug("outbox relay: published", "id", d.ID, "event", ev.ID, "subject", ev.Subject)
		removed, err := r.removeHead(ctx, d.ID, ev.ID, i == len(d.Outbox)-1)
		if err != nil {
			r.logger.Warn("outbox relay: event published but not removed, it will be sent again",
				"id", d.ID, "event", ev.ID, "subject", ev.Subject, "err", err)
			return published, sendFailed
		}
		if !removed {
			// Another relay removed it (or the record is gone); read the
			// record again instead of guessing its new head.
			r.logger.Debug("outbox relay: head already removed elsewhere",
				"id", d.ID, "event", ev.ID)
			return published, sendRaced
		}
	}
	return published, sendDone
}

func (r *Relay) publish(ctx context.Context, ev OutboxEvent) error {
	ctx, cancel := context.WithTimeout(ctx, r.opts.PublishTimeout)
	defer cancel()
	if err := r.pub.Publish(ctx, ev.Subject, []byte(ev.Data)); err != nil {
		return fmt.Errorf("publish %s: %w", ev.Subject, err)
	}
	return nil
}

// removeHead pops the first outbox event only if it is still the event just
// published, so an event appended meanwhile, or one another relay already
// removed, is never dropped. $pull with a condition on the element's id would
// be the obvious form, but FerretDB silently ignores it; $pop with this
// filter behaves the same on both.
//
// When the event was the last one read, the outbox field goes with it if the
// event is still the only one: the record then leaves PendingIndex in the
// same update and carries no empty array. If an event was appended meanwhile
// that update matches nothing, and the plain pop follows.
func (r *Relay) removeHead(ctx context.Context, id any, eventID string, last bool) (bool, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removeTimeout)
	defer cancel()
	if last {
		res, err := r.coll.UpdateOne(ctx,
			bson.M{fieldID: id, fieldOutbox + ".0.id": eventID, fieldOutbox: bson.M{"$size": 1}},
			bson.M{"$unset": bson.M{fieldOutbox: ""}})
		if err != nil {
			return false, fmt.Errorf("remove last event %s: %w", eventID, err)
		}
		if res.MatchedCount == 1 {
			return true, nil
		}
	}
	res, err := r.coll.UpdateOne(ctx,
		bson.M{fieldID: id, fieldOutbox + ".0.id": eventID},
		bson.M{"$pop": bson.M{fieldOutbox: -1}})
	if err != nil {
		return false, fmt.Errorf("remove event %s: %w", eventID, err)
	}
	return res.MatchedCount == 1, nil
}
