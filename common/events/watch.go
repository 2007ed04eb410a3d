package events

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// watchGroup labels a Watcher's deliveries in events_handled_total, where a
// Listener puts its queue group.
const watchGroup = "(watch)"

// Watcher receives every message of one subject in this process: a
// subscription that is neither durable nor in a queue group, so each copy
// of a service hears every message, where a Listener shares them out among
// the copies. It is for state a process keeps in memory (a read view), not
// for changes to stored records: nothing is redelivered.
//
// It starts with the messages published after Watch is called. After a
// lost connection it resumes after the last message it received (or, if
// none came yet, at the time Watch was called), so a reconnect loses
// nothing the server still has; a few messages may then come twice.
type Watcher struct {
	t   transport
	sub *subscription

	mu     sync.Mutex // serialises deliveries with Close
	closed bool
}

// watchState is what a transport needs to subscribe a Watcher, again after
// every reconnect: a plain subscription (no durable, no queue group) that
// starts after lastSeq (or after contiguous, on a bus that numbers each
// subject's messages one by one), or at since while nothing came yet.
type watchState struct {
	since   time.Time
	lastSeq atomic.Uint64 // the bus's sequence of the last message delivered
	// contiguous is the last sequence up to which every message arrived,
	// for NATS Streaming, whose channel sequences have no holes: a message
	// lost in transit while the connection was failing (the server goes on
	// sending to the old subscription for a moment) is asked for again by
	// the next subscription, at the cost of repeating the ones after it.
	contiguous atomic.Uint64
	above      map[uint64]struct{} // arrived past a hole; guarded by Watcher.mu
}

// maxHoleWait bounds the messages remembered past a hole; beyond it the
// hole is given up (the server dropped those messages, say).
const maxHoleWait = 4096

// delivered records seq; the caller holds Watcher.mu.
func (s *watchState) delivered(seq uint64) {
	if seq > s.lastSeq.Load() {
		s.lastSeq.Store(seq)
	}
	c := s.contiguous.Load()
	switch {
	case c == 0 || seq == c+1:
		c = seq
		for {
			if _, ok := s.above[c+1]; !ok {
				break
			}
			delete(s.above, c+1)
			c++
		}
	case seq > c+1:
		if s.above == nil {
			s.above = map[uint64]struct{}{}
		}
		s.above[seq] = struct{}{}
		if len(s.above) > maxHoleWait {
			c = s.lastSeq.Load()
			clear(s.above)
		}
	}
	s.contiguous.Store(c)
}

// Watch subscribes handler to T's subject for this process only. Messages
// are handled one at a time, in the order the server stores them, so
// handler should be quick. A handler's error is logged and the message is
// not seen again; a message that does not decode is logged and skipped. Of
// the options, WithAckWait (the handler's time limit, default 5 s),
// WithMaxInflight (default 256) and WithLogger apply.
func Watch[T Payload](conn *Conn, handler Handler[T], opts ...ListenOption) (*Watcher, error) {
	var zero T
	subject := zero.Subject()
	if handler == nil {
		return nil, fmt.Errorf("events: watch %s: handler is required", subject)
	}
	o := listenOptions{ackWait: 5 * time.Second, maxInflight: 256, logger: conn.cfg.Logger}
	for _, opt := range opts {
		opt(&o)
	}
	if o.ackWait < time.Second || o.maxInflight < 1 {
		return nil, fmt.Errorf("events: watch %s: ack wait %v must be at least 1s and max inflight %d at least 1", subject, o.ackWait, o.maxInflight)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	log := o.logger.With("component", "watcher", "subject", string(subject))
	w := &Watcher{t: conn.t}
	state := &watchState{since: time.Now()}
	w.sub = &subscription{
		subject:     subject,
		ackWait:     o.ackWait,
		maxInflight: o.maxInflight,
		watch:       state,
		deliver: func(d delivery) {
			w.mu.Lock()
			defer w.mu.Unlock()
			if w.closed {
				return
			}
			meta := d.meta()
			state.delivered(meta.Sequence)
			outcome := handleWatched(d, meta, handler, o.ackWait, log)
			// Acked whatever happened: a watcher's messages never come back.
			if err := d.ack(); err != nil {
				log.Debug("ack failed", "sequence", meta.Sequence, "err", err)
			}
			conn.metrics.recordHandled(subject, watchGroup, outcome, meta.Timestamp)
		},
		drain: w.stop,
	}
	if err := w.t.subscribe(w.sub); err != nil {
		return nil, err
	}
	log.Info("watching")
	return w, nil
}

// Subject is the subject the watcher receives.
func (w *Watcher) Subject() Subject { return w.sub.subject }

// Close waits for the message being handled, if any, and ends the
// subscription. Do not call it from the handler.
func (w *Watcher) Close() error {
	return w.t.closeSubscription(w.sub)
}

func (w *Watcher) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}

func handleWatched[T Payload](d delivery, meta Meta, handler Handler[T], timeout time.Duration, log *slog.Logger) string {
	log = log.With("sequence", meta.Sequence)
	msg, err := Decode[T](d.data())
	if err != nil {
		body := d.data()
		if len(body) > maxLoggedBody {
			body = body[:maxLoggedBody]
		}
		log.Error("undecodable or invalid payload, skipped", "err", err, "body", string(body))
		return outcomePoison
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	panicked, err := callHandler(ctx, handler, msg, meta)
	switch {
	case panicked:
		log.Error("watch handler panicked; message skipped", "err", err)
		return outcomePoison
	case err != nil:
		log.Warn("watch handler failed; message skipped", "err", err)
		return outcomeRetry
	default:
		return outcomeDone
	}
}
