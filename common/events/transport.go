package events

import (
	"context"
	"math/rand/v2"
	"time"
)

// transport is one bus's mechanics behind Conn: connecting and staying
// connected, subscribing (and subscribing again after a reconnect),
// publishing with the server's ack. Conn, Listener and Publisher hold what
// both buses share: the surface the services use, the worker pool, the
// poison rule and the metrics.
type transport interface {
	// connected reports whether publishes and deliveries can flow now.
	connected() bool
	// ready makes a round trip to the server, bounded by ctx.
	ready(ctx context.Context) error
	// publish stores data on subject and waits for the server's ack. While
	// disconnected it fails at once with an error wrapping ErrNotConnected.
	publish(ctx context.Context, subject string, data []byte) error
	// subscribe registers s so it survives reconnects; while connected it
	// subscribes at once and returns the server's refusal, if any.
	subscribe(s *subscription) error
	// closeSubscription drains s (s.drain) and stops its deliveries,
	// keeping the durable position. It is a no-op once close has run.
	closeSubscription(s *subscription) error
	// close stops reconnecting, drains and closes every subscription, then
	// the connection.
	close() error
}

// subscription is what a transport needs to subscribe a listener, again
// after every reconnect.
type subscription struct {
	subject     Subject
	group       string
	ackWait     time.Duration
	maxInflight int
	// deliver hands one message to the listener; it blocks while the
	// listener's workers are busy, which holds back this subscription only.
	deliver func(delivery)
	// drain stops taking new messages and waits for the ones in flight, so
	// they can still be acked before the subscription closes.
	drain func()
	// watch is set for a Watcher: a plain subscription for this process
	// (no durable, no queue group, group empty) that resumes after the last
	// message it was handed.
	watch *watchState
}

// delivery is one message as the listener sees it, whichever bus brought it.
type delivery interface {
	data() []byte
	meta() Meta
	// ack says the message is done with.
	ack() error
	// poison says the message can never be processed: it must not come back.
	poison() error
}

// backoff is the wait before reconnect attempt n (from 1): doubling from min
// up to max, with jitter so a fleet of replicas does not reconnect in
// lockstep.
func backoff(n int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + rand.N(d/2+1)
}

// sleepCtx waits d or until ctx ends, and says whether it waited it out.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
