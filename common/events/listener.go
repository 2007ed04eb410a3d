package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// ErrPoison is what a handler wraps to say that a message can never be
// processed, however often it comes back. The listener logs and acks such a
// message so it does not block the queue.
var ErrPoison = errors.New("poison message")

// Meta is what the listener knows about a message beyond its payload.
type Meta struct {
	Subject Subject
	// Sequence is the message's place in its channel on NATS Streaming and
	// in the stream on JetStream (shared by the six subjects there).
	Sequence        uint64
	Redelivered     bool
	RedeliveryCount uint32
	Timestamp       time.Time // when the server stored the message
}

// Handler processes one message. Returning nil acks it; any other error
// leaves it unacked so the server redelivers it after the ack wait, unless
// the error wraps ErrPoison. The context ends at the ack wait, when the
// message is redelivered anyway.
type Handler[T Payload] func(ctx context.Context, msg T, meta Meta) error

// ListenOption tunes a listener; the defaults follow CONTRACT.md §3.
type ListenOption func(*listenOptions)

type listenOptions struct {
	ackWait     time.Duration
	maxInflight int
	workers     int
	logger      *slog.Logger
}

// WithAckWait sets how long the server waits for an ack before redelivering.
// The server counts whole seconds (the value is rounded down) and needs at
// least 1 s. Default 5 s.
func WithAckWait(d time.Duration) ListenOption {
	return func(o *listenOptions) { o.ackWait = d }
}

// WithMaxInflight sets how many unacked messages the server hands this
// listener at once. Keep it to what the workers finish well within the ack
// wait, or the backlog times out and comes back as duplicates. Default 64.
func WithMaxInflight(n int) ListenOption {
	return func(o *listenOptions) { o.maxInflight = n }
}

// WithWorkers sets how many messages are processed at once. Default 8.
func WithWorkers(n int) ListenOption {
	return func(o *listenOptions) { o.workers = n }
}

// WithLogger replaces the connection's logger for this listener.
func WithLogger(l *slog.Logger) ListenOption {
	return func(o *listenOptions) { o.logger = l }
}

// Listener receives one subject as a member of a durable queue group. It
// survives reconnects of its Conn.
type Listener struct {
	conn    *Conn
	sub     *subscription
	subject Subject
	group   string

	jobs     chan delivery
	quit     chan struct{}
	workers  sync.WaitGroup
	stopOnce sync.Once
}

// Listen subscribes handler to T's subject in the durable queue group group
// (the durable name is the group name, so the group's position survives
// restarts), starting from the first available message when the group is new.
// On JetStream the group is a durable consumer of the stream named after the
// group and the subject (see consumerName), since one stream holds them all.
// T is a payload struct type such as TicketCreated, not a pointer to one.
func Listen[T Payload](conn *Conn, group string, handler Handler[T], opts ...ListenOption) (*Listener, error) {
	var zero T
	subject := zero.Subject()
	o := listenOptions{ackWait: 5 * time.Second, maxInflight: 64, workers: 8, logger: conn.cfg.Logger}
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case group == "":
		return nil, fmt.Errorf("events: listen on %s: queue group is required", subject)
	case handler == nil:
		return nil, fmt.Errorf("events: listen on %s: handler is required", subject)
	case o.ackWait < time.Second:
		return nil, fmt.Errorf("events: listen on %s: ack wait %v is below the server's minimum of 1s", subject, o.ackWait)
	case o.maxInflight < 1 || o.workers < 1:
		return nil, fmt.Errorf("events: listen on %s: max inflight (%d) and workers (%d) must be at least 1", subject, o.maxInflight, o.workers)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}

	l := &Listener{
		conn:    conn,
		subject: subject,
		group:   group,
		jobs:    make(chan delivery),
		quit:    make(chan struct{}),
	}
	log := o.logger.With("component", "listener", "subject", string(subject), "group", group)
	process := func(d delivery) {
		meta := d.meta()
		outcome := processMessage(d, meta, handler, o.ackWait, log)
		conn.metrics.recordHandled(subject, group, outcome, meta.Timestamp)
	}
	for range o.workers {
		l.workers.Add(1)
		go l.work(process)
	}

	l.sub = &subscription{
		subject:     subject,
		group:       group,
		ackWait:     o.ackWait,
		maxInflight: o.maxInflight,
		deliver:     l.dispatch,
		drain:       l.stop,
	}
	if err := conn.t.subscribe(l.sub); err != nil {
		l.stop()
		return nil, err
	}
	log.Info("listening", "workers", o.workers, "maxInflight", o.maxInflight, "ackWait", o.ackWait.String())
	return l, nil
}

// Subject is the subject the listener receives.
func (l *Listener) Subject() Subject { return l.subject }

// Group is the listener's queue group and durable name.
func (l *Listener) Group() string { return l.group }

// Close stops taking messages, waits for the ones being processed (so they
// are acked), then closes the subscription with Close, not Unsubscribe, which
// would delete the durable and make the group start over. Messages handed
// over but not yet processed stay unacked and are redelivered. Do not call
// Close from a handler: it waits for the handlers to return.
func (l *Listener) Close() error {
	return l.conn.t.closeSubscription(l.sub)
}

// dispatch is the transport's callback. Blocking here holds back this
// subscription only, which is the back-pressure the bounded worker pool
// needs; the server stops sending at MaxInflight unacked messages anyway.
func (l *Listener) dispatch(m delivery) {
	select {
	case l.jobs <- m:
	case <-l.quit:
	}
}

func (l *Listener) work(process func(delivery)) {
	defer l.workers.Done()
	for {
		select {
		case <-l.quit:
			return
		case m := <-l.jobs:
			process(m)
		}
	}
}

func (l *Listener) stop() {
	l.stopOnce.Do(func() {
		close(l.quit)
		l.workers.Wait()
	})
}

// maxLoggedBody bounds how much of a poison message goes into the log.
const maxLoggedBody = 512

func truncated(body []byte) string {
	if len(body) > maxLoggedBody {
		body = body[:maxLoggedBody]
	}
	return string(body)
}

// processMessage handles one delivery and says how it ended (outcomeDone,
// outcomeRetry or outcomePoison).
func processMessage[T Payload](m delivery, meta Meta, handler Handler[T], ackWait time.Duration, log *slog.Logger) string {
	log = log.With("sequence", meta.Sequence, "redelivered", meta.Redelivered)

	msg, err := Decode[T](m.data())
	if err != nil {
		log.Error("poison message: undecodable or invalid payload, acking so it does not block the queue",
			"err", err, "body", truncated(m.data()))
		poison(m, log)
		return outcomePoison
	}

	ctx, cancel := context.WithTimeout(context.Background(), ackWait)
	defer cancel()
	panicked, err := callHandler(ctx, handler, msg, meta)
	switch {
	case panicked:
		log.Error("handler panicked; leaving the message unacked for redelivery", "err", err)
		return outcomeRetry
	case errors.Is(err, ErrPoison):
		log.Error("poison message: handler says it can never be processed, acking so it does not block the queue", "err", err)
		poison(m, log)
		return outcomePoison
	case err != nil:
		log.Warn("handler failed; leaving the message unacked for redelivery", "err", err)
		return outcomeRetry
	default:
		ack(m, log)
		// At debug level every handled event can be traced by its payload.
		if log.Enabled(context.Background(), slog.LevelDebug) {
			log.Debug("event handled", "body", truncated(m.data()))
		}
		return outcomeDone
	}
}

// callHandler keeps a panicking handler from taking the process down; the
// message stays unacked, as for any other failure.
func callHandler[T Payload](ctx context.Context, handler Handler[T], msg T, meta Meta) (panicked bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			panicked = true
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return false, handler(ctx, msg, meta)
}

func ack(m delivery, log *slog.Logger) {
	// Fails when the subscription was replaced by a reconnect or closed; the
	// server then redelivers, and handlers are idempotent.
	if err := m.ack(); err != nil {
		log.Warn("ack failed; the message will be redelivered", "err", err)
	}
}

// poison acks a message that can never be processed (NATS Streaming) or
// terminates it (JetStream), so it never comes back.
func poison(m delivery, log *slog.Logger) {
	if err := m.poison(); err != nil {
		log.Warn("ack of a poison message failed; it will be redelivered", "err", err)
	}
}
