package mongox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Publisher sends one message and returns once the server has it (a
// synchronous publish); an error means it may not have arrived.
type Publisher interface {
	Publish(ctx context.Context, subject string, data []byte) error
}

// RelayOptions tune a Relay; zero values take the defaults.
type RelayOptions struct {
	// SweepInterval is how often the relay looks for pending events without
	// being notified: the safety net for a crash between a write and its
	// Notify, or for a publish that failed. Default 2s.
	SweepInterval time.Duration
	// BatchSize bounds the documents one sweep reads, so one sweep never
	// holds a large result in memory. Default 100.
	BatchSize int
	// PublishTimeout bounds one publish, so a server that never answers
	// stalls the relay only until the next attempt. Default 10s.
	PublishTimeout time.Duration
	// Workers is how many notified records are sent at once. Default
	// DefaultRelayWorkers.
	Workers int
}

// DefaultRelayWorkers suits a MongoDB pool of the driver's default size
// (100): each worker holds at most one connection at a time, so sixteen
// keep a burst of writes' events going out side by side (each waits on a
// publish round trip, not on the database) while leaving most of the pool
// to requests and listeners. On a one-connection store more workers only
// queue for that connection; bin/local sets 4 there (OUTBOX_RELAY_WORKERS).
const DefaultRelayWorkers = 16

const (
	defaultSweepInterval  = 2 * time.Second
	defaultBatchSize      = 100
	defaultPublishTimeout = 10 * time.Second
	// removeTimeout bounds the update that removes a published event. It runs
	// even while the relay is shutting down, since an event that was sent but
	// not removed is sent again after the restart.
	removeTimeout = 5 * time.Second
)

// Relay publishes the pending outbox events of one collection, each record's
// events in the order they were stored, and removes each event once its
// publish succeeded. Run it once per collection per process.
type Relay struct {
	coll   *mongo.Collection
	pub    Publisher
	logger *slog.Logger
	opts   RelayOptions
	wake   chan struct{}

	mu sync.Mutex
	// due holds the records named by Notify since the relay last looked;
	// sweepDue is set by a Notify that named none, or whose id was not an
	// ObjectId, and asks for a full sweep.
	due      map[primitive.ObjectID]struct{}
	sweepDue bool
}

// NewRelay makes a relay for coll. A nil logger means slog.Default().
func NewRelay(coll *mongo.Collection, pub Publisher, logger *slog.Logger, opts RelayOptions) *Relay {
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = defaultSweepInterval
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = defaultBatchSize
	}
	if opts.PublishTimeout <= 0 {
		opts.PublishTimeout = defaultPublishTimeout
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultRelayWorkers
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Relay{
		coll:   coll,
		pub:    pub,
		logger: logger.With("collection", coll.Name()),
		opts:   opts,
		// One slot: any number of Notify calls before the next sweep starts
		// collapse into that one sweep, and Notify never blocks a writer.
		wake: make(chan struct{}, 1),
		due:  map[primitive.ObjectID]struct{}{},
	}
}

// Notify wakes the relay to send the events of the records ids (each the hex
// form of an ObjectId _id) soon; with no ids it sweeps the collection. It
// never blocks; call it after every write that added events.
//
// A named record is read through the _id index, where a sweep's filter on
// the outbox has no index to use and reads the whole collection, so a busy
// relay costs each write one indexed read rather than a collection scan.
func (r *Relay) Notify(ids ...string) {
	r.mu.Lock()
	if len(ids) == 0 {
		r.sweepDue = true
	}
	for _, id := range ids {
		oid, err := primitive.ObjectIDFromHex(id)
		if err != nil {
			r.sweepDue = true
			continue
		}
		r.due[oid] = struct{}{}
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// takeDue returns the records named since the last call and whether a full
// sweep was asked for, and forgets both.
func (r *Relay) takeDue() (ids []primitive.ObjectID, sweep bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id := range r.due {
		ids = append(ids, id)
	}
	clear(r.due)
	sweep, r.sweepDue = r.sweepDue, false
	return ids, sweep
}

// Run sweeps at once (to send what a previous process left behind), then on
// every Notify and every SweepInterval, until ctx ends. It returns nil when
// ctx ends: failures to read or publish are logged and retried, never fatal,
// because the events stay stored until they are sent.
func (r *Relay) Run(ctx context.Context) error {
	ticker := time.NewTicker(r.opts.SweepInterval)
	defer ticker.Stop()
	r.drain(ctx)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.wake:
			ids, sweep := r.takeDue()
			if sweep {
				r.drain(ctx)
				continue
			}
			r.sendNamed(ctx, ids)
		case <-ticker.C:
			r.drain(ctx)
		}
	}
}

// sendNamed sends the pending events of the records Notify named, several
// records at a time (Workers): each record's events still go out in order,
// since a record is named once per call and handled by one worker, but the
// relay's reads and removals wait in the database pool's queue side by side
// instead of one after another, which kept events seconds behind a burst of
// requests on a one-connection pool.
func (r *Relay) sendNamed(ctx context.Context, ids []primitive.ObjectID) {
	work := make(chan primitive.ObjectID)
	var wg sync.WaitGroup
	for range min(r.opts.Workers, len(ids)) {
		wg.Go(func() {
			for id := range work {
				r.sendOne(ctx, id)
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
}

func (r *Relay) sendOne(ctx context.Context, id primitive.ObjectID) {
	if ctx.Err() != nil {
		return
	}
	var d pending
	err := r.coll.FindOne(ctx, bson.M{fieldID: id}, options.FindOne().SetProjection(bson.M{fieldOutbox: 1})).Decode(&d)
	if err != nil {
		if !errors.Is(err, mongo.ErrNoDocuments) && ctx.Err() == nil {
			// The timer's sweep finds the record later.
			r.logger.Warn("outbox relay: read notified record", "id", id.Hex(), "err", err)
		}
		return
	}
	r.sendRecord(ctx, d)
}

// drain sweeps until a sweep finds less than a full batch, so a backlog
// larger than BatchSize goes out without waiting for the timer.
func (r *Relay) drain(ctx context.Context) {
	for ctx.Err() == nil {
		found, published := r.sweep(ctx)
		// Stop when nothing moved too, or a batch of stuck records would spin.
		if found < r.opts.BatchSize || published == 0 {
			return
		}
	}
}

// pending is what a sweep reads of a record. _id is kept as any so the relay
// works whatever type a collection uses for its ids.
type pending struct {
	ID     any           `bson:"_id"`
	Outbox []OutboxEvent `bson:"outbox"`
}

// pendingFilter finds records whose outbox has at least one event. Checked on
// FerretDB: it matches neither a missing, null nor empty outbox.
func pendingFilter() bson.M {
	return bson.M{fieldOutbox + ".0": bson.M{"$exists": true}}
}

// sweep sends the pending events of up to one batch of records and reports
// how many records it found and how many events it published.
func (r *Relay) sweep(ctx context.Context) (found, published int) {
	opts := options.Find().
		SetProjection(bson.M{fieldOutbox: 1}).
		SetSort(bson.M{fieldID: 1}).
		SetLimit(int64(r.opts.BatchSize))
	cur, err := r.coll.Find(ctx, pendingFilter(), opts)
	if err != nil {
		if ctx.Err() == nil {
			r.logger.Error("outbox relay: find pending events", "err", err)
		}
		return 0, 0
	}
	var docs []pending
	if err := cur.All(ctx, &docs); err != nil {
		if ctx.Err() == nil {
			r.logger.Error("outbox relay: read pending events", "err", err)
		}
		return 0, 0
	}
	for _, d := range docs {
		if ctx.Err() != nil {
			break
		}
		published += r.sendRecord(ctx, d)
	}
	return len(docs), published
}

// sendRecord publishes one record's events head first and removes each after
// its publish. It stops at the first failure so that a later event of the
// record is never sent before an earlier one; the next sweep starts again
// from the head.
func (r *Relay) sendRecord(ctx context.Context, d pending) (published int) {
	for _, ev := range d.Outbox {
		if ctx.Err() != nil {
			return published
		}
		if ev.ID == "" {
			// Without an id the head cannot be removed safely, and sending it
			// anyway would repeat it on every sweep. UpdateVersioned refuses
			// such events; this one was written some other way.
			r.logger.Error("outbox relay: pending event has no id, record is stuck until it is fixed",
				"id", d.ID, "subject", ev.Subject)
			return published
		}
		if err := r.publish(ctx, ev); err != nil {
			if ctx.Err() == nil {
				r.logger.Warn("outbox relay: publish failed, will retry",
					"id", d.ID, "event", ev.ID, "subject", ev.Subject, "err", err)
			}
			return published
		}
		published++
		removed, err := r.removeHead(ctx, d.ID, ev.ID)
		if err != nil {
			r.logger.Warn("outbox relay: event published but not removed, it will be sent again",
				"id", d.ID, "event", ev.ID, "subject", ev.Subject, "err", err)
			return published
		}
		if !removed {
			// Another relay removed it (or the record is gone); re-read the
			// record on the next sweep instead of guessing its new head.
			r.logger.Debug("outbox relay: head already removed elsewhere",
				"id", d.ID, "event", ev.ID)
			return published
		}
	}
	return published
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
func (r *Relay) removeHead(ctx context.Context, id any, eventID string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removeTimeout)
	defer cancel()
	res, err := r.coll.UpdateOne(ctx,
		bson.M{fieldID: id, fieldOutbox + ".0.id": eventID},
		bson.M{"$pop": bson.M{fieldOutbox: -1}})
	if err != nil {
		return false, fmt.Errorf("remove event %s: %w", eventID, err)
	}
	return res.MatchedCount == 1, nil
}
