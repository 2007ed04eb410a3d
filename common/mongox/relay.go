package mongox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"reflect"
	"sync"
	"sync/atomic"
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
	// SweepInterval is how often the relay looks for pending events nobody
	// told it about: those another process left behind (a crash between a
	// write and its Notify, or a relay that died with a failed publish in
	// its memory). The sweep reads through the pending index, so on MongoDB
	// it costs in proportion to the records with pending events, not to the
	// collection. Default DefaultSweepInterval.
	SweepInterval time.Duration
	// RetryInterval is the first wait before a record whose read, publish
	// or removal failed is tried again; the relay keeps such records in
	// memory, so no sweep is needed to find them. The wait doubles while
	// retries make no progress, up to maxRetryWait. Default 1s.
	RetryInterval time.Duration
	// BatchSize bounds the documents one round trip of a sweep reads, so
	// a sweep never holds a large result in memory. Default 100.
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

// DefaultSweepInterval suits MongoDB, where the sweep is an indexed read
// of the records with pending events. FerretDB does not push the filter
// down to its index and reads the whole collection for it, so bin/local sets
// a long interval (OUTBOX_SWEEP_INTERVAL): its supervisor restarts a killed
// service, whose start-up sweep sends what it left.
const DefaultSweepInterval = 30 * time.Second

// PendingIndex is the index the relay creates on every collection it
// serves: sparse on the head event, which exists exactly while a record has
// events pending, so it holds only those records (a key is one event, a few
// hundred bytes) and a sweep costs O(pending records). The writers need not know about it: the
// database keeps it in step with the outbox in the same single-document
// update that appends or removes an event.
const PendingIndex = "outbox_pending"

const (
	defaultRetryInterval  = time.Second
	maxRetryWait          = 30 * time.Second
	maxRereads            = 3
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
	// retry holds the records whose last attempt failed, by _id.
	retry map[any]struct{}
}

// NewRelay makes a relay for coll. A nil logger means slog.Default().
func NewRelay(coll *mongo.Collection, pub Publisher, logger *slog.Logger, opts RelayOptions) *Relay {
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = DefaultSweepInterval
	}
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = defaultRetryInterval
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
		wake:  make(chan struct{}, 1),
		due:   map[primitive.ObjectID]struct{}{},
		retry: map[any]struct{}{},
	}
}

// Notify wakes the relay to send the events of the records ids (each the hex
// form of an ObjectId _id) soon; with no ids it sweeps the collection. It
// never blocks; call it after every write that added events.
//
// A named record is read through the _id index, so a busy relay costs each
// write one indexed read, and no sweep at all.
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
func (r *Relay) takeDue() (ids []any, sweep bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id := range r.due {
		ids = append(ids, id)
	}
	clear(r.due)
	sweep, r.sweepDue = r.sweepDue, false
	return ids, sweep
}

// addRetry remembers a record whose events could not all be sent. An _id
// of a type that cannot be a map key (a document, binary) is left to the
// next sweep.
func (r *Relay) addRetry(id any) {
	if t := reflect.TypeOf(id); t == nil || !t.Comparable() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retry[id] = struct{}{}
}

// takeRetries returns the records to try again and forgets them; those that
// fail again are added back.
func (r *Relay) takeRetries() []any {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := make([]any, 0, len(r.retry))
	for id := range r.retry {
		ids = append(ids, id)
	}
	clear(r.retry)
	return ids
}

func (r *Relay) retriesPending() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.retry) > 0
}

// Run creates the pending index, sweeps at once (to send what a previous
// process left behind), then sends on every Notify, retries what failed,
// and sweeps every SweepInterval, until ctx ends. It returns nil when ctx
// ends: failures to read or publish are logged and retried, never fatal,
// because the events stay stored until they are sent.
func (r *Relay) Run(ctx context.Context) error {
	r.ensurePendingIndex(ctx)
	ticker := time.NewTicker(r.opts.SweepInterval)
	defer ticker.Stop()
	r.drain(ctx)
	var (
		retryWait = r.opts.RetryInterval
		retryC    <-chan time.Time // nil while nothing waits for a retry
	)
	for {
		if retryC == nil && r.retriesPending() {
			retryC = time.After(retryWait)
		}
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
		case <-retryC:
			retryC = nil
			// Back off while the bus or the store stays away, so a long
			// outage costs a few attempts a minute, not a stream of them.
			if r.sendNamed(ctx, r.takeRetries()) > 0 || !r.retriesPending() {
				retryWait = r.opts.RetryInterval
			} else {
				retryWait = min(2*retryWait, max(maxRetryWait, r.opts.RetryInterval))
			}
		case <-ticker.C:
			r.drain(ctx)
		}
	}
}

// ensurePendingIndex creates PendingIndex. A failure is logged, not fatal:
// sweeps still find every pending record, only at a higher cost.
func (r *Relay) ensurePendingIndex(ctx context.Context) {
	err := EnsureIndexes(ctx, r.coll, mongo.IndexModel{
		Keys:    bson.D{{Key: fieldOutbox + ".0", Value: 1}},
		Options: options.Index().SetName(PendingIndex).SetSparse(true),
	})
	if err != nil && ctx.Err() == nil {
		r.logger.Warn("outbox relay: cannot create the pending index; sweeps read the whole collection", "err", err)
	}
}

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
