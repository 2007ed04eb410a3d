package mongox

import (
	"context"
	"log/slog"
	"reflect"
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
// to requests and listeners. bin/local keeps sixteen on its one-connection
// store too (OUTBOX_RELAY_WORKERS), against 8 requests in flight, so a
// burst's events keep up with its writes.
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
