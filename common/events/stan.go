package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/stan.go"
)

// stanTransport keeps a NATS Streaming connection alive: stan.go does not
// come back by itself after the server restarts, so on loss it dials again
// with backoff and re-creates every subscription. Durable queue groups then
// resume where they were (or, if the server lost its state, start over from
// the first message it has).
type stanTransport struct {
	cfg Config
	log *slog.Logger

	// ctx ends at close and stops the reconnect loop.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu sync.RWMutex
	sc stan.Conn // nil while disconnected
	// subs maps each registered subscription to its stan subscription, nil
	// while disconnected.
	subs   map[*subscription]stan.Subscription
	closed bool
}

func dialStan(ctx context.Context, cfg Config, log *slog.Logger) (*stanTransport, error) {
	t := &stanTransport{cfg: cfg, log: log, subs: make(map[*subscription]stan.Subscription)}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	if err := t.dialLoop(ctx); err != nil {
		t.cancel()
		return nil, fmt.Errorf("events: connect to NATS Streaming %s (cluster %q) as %q: %w",
			cfg.URL, cfg.ClusterID, cfg.ClientID, err)
	}
	t.log.Info("connected to NATS Streaming", "url", cfg.URL)
	return t, nil
}

// dialLoop tries dial with growing pauses until it succeeds or ctx ends.
func (t *stanTransport) dialLoop(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		err := t.dial()
		if err == nil {
			return nil
		}
		if errors.Is(err, errClosed) {
			return err
		}
		wait := backoff(attempt, t.cfg.MinBackoff, t.cfg.MaxBackoff)
		t.log.Warn("NATS Streaming connection attempt failed", "attempt", attempt, "retryIn", wait.String(), "err", err)
		if !sleepCtx(ctx, wait) {
			return fmt.Errorf("%w (last attempt: %w)", ctx.Err(), err)
		}
	}
}

var errClosed = errors.New("events: connection closed")

// dial makes one connection attempt and, if it works, subscribes everything
// registered so far. It installs the connection only if all of that works,
// so readers never see a connection that is missing subscriptions.
func (t *stanTransport) dial() error {
	sc, err := stan.Connect(t.cfg.ClusterID, t.cfg.ClientID,
		stan.NatsURL(t.cfg.URL),
		stan.ConnectWait(t.cfg.ConnectWait),
		stan.PubAckWait(t.cfg.PubAckWait),
		stan.Pings(int(t.cfg.PingInterval/time.Second), t.cfg.PingMaxOut),
		stan.SetConnectionLostHandler(t.onLost),
	)
	if err != nil {
		return err
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		closeStanQuietly(sc)
		return errClosed
	}
	// The lost handler may already have fired for sc (it ignores connections
	// that are not installed), so check it is still alive while holding the
	// lock: from here on a loss finds sc installed and is handled.
	if sc.NatsConn() == nil {
		return errors.New("connection lost right after it was made")
	}
	for s := range t.subs {
		sub, err := stanSubscribe(sc, s)
		if err != nil {
			for s := range t.subs {
				t.subs[s] = nil
			}
			closeStanQuietly(sc)
			return fmt.Errorf("subscribe %s as %q: %w", s.subject, s.group, err)
		}
		t.subs[s] = sub
	}
	t.sc = sc
	return nil
}

func stanSubscribe(sc stan.Conn, s *subscription) (stan.Subscription, error) {
	if s.watch != nil {
		return stanWatchSubscribe(sc, s)
	}
	return sc.QueueSubscribe(string(s.subject), s.group,
		func(m *stan.Msg) { s.deliver(stanDelivery{m}) },
		stan.DurableName(s.group),
		stan.DeliverAllAvailable(),
		stan.SetManualAckMode(),
		stan.AckWait(s.ackWait),
		stan.MaxInflight(s.maxInflight),
	)
}

// onLost runs (on its own goroutine, started by stan.go) when pings go
// unanswered or the server no longer knows this client.
func (t *stanTransport) onLost(lost stan.Conn, reason error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.sc != lost {
		return
	}
	t.sc = nil
	for s := range t.subs {
		t.subs[s] = nil
	}
	t.log.Error("lost connection to NATS Streaming, reconnecting", "err", reason)
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		if err := t.dialLoop(t.ctx); err != nil {
			return // only when close ended the loop
		}
		t.log.Info("reconnected to NATS Streaming", "url", t.cfg.URL)
	}()
}

func closeStanQuietly(sc stan.Conn) {
	// The server may be gone; the close request then times out, and there is
	// nothing more to do about it.
	_ = sc.Close()
}

func (t *stanTransport) current() stan.Conn {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.sc
}

func (t *stanTransport) connected() bool {
	sc := t.current()
	if sc == nil {
		return false
	}
	nc := sc.NatsConn()
	return nc != nil && nc.IsConnected()
}

func (t *stanTransport) ready(ctx context.Context) error {
	sc := t.current()
	if sc == nil {
		return ErrNotConnected
	}
	nc := sc.NatsConn()
	if nc == nil || !nc.IsConnected() {
		return ErrNotConnected
	}
	if err := nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("%w: round trip to NATS failed: %w", ErrNotConnected, err)
	}
	return nil
}

func (t *stanTransport) publish(ctx context.Context, subject string, data []byte) error {
	sc := t.current()
	if sc == nil {
		return ErrNotConnected
	}
	// PublishAsync with a channel is stan's synchronous Publish plus the
	// ability to give up when ctx ends.
	acked := make(chan error, 1)
	_, err := sc.PublishAsync(subject, data, func(_ string, err error) { acked <- err })
	if err == nil {
		select {
		case err = <-acked:
		case <-ctx.Done():
			// The server may still store it; delivery is at-least-once anyway.
			return fmt.Errorf("waiting for ack: %w", ctx.Err())
		}
	}
	if err == nil {
		return nil
	}
	// A publish during an outage fails in several ways (connection closed,
	// reconnect buffer exceeded, ack timeout); callers only need to know that
	// the connection is the problem.
	if errors.Is(err, stan.ErrConnectionClosed) || errors.Is(err, stan.ErrBadConnection) || !t.connected() {
		return fmt.Errorf("%w: %w", ErrNotConnected, err)
	}
	return err
}

func (t *stanTransport) subscribe(s *subscription) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return errClosed
	}
	var sub stan.Subscription
	if t.sc != nil {
		var err error
		if sub, err = stanSubscribe(t.sc, s); err != nil {
			return fmt.Errorf("events: subscribe %s as %q: %w", s.subject, s.group, err)
		}
	}
	t.subs[s] = sub
	return nil
}

// closeSubscription closes s on the server with Close, which, unlike
// Unsubscribe, keeps the durable queue group's position.
func (t *stanTransport) closeSubscription(s *subscription) error {
	t.mu.Lock()
	sub, ok := t.subs[s]
	delete(t.subs, s)
	t.mu.Unlock()
	if !ok {
		return nil // close got there first
	}
	s.drain()
	if sub == nil {
		return nil
	}
	if err := sub.Close(); err != nil {
		return fmt.Errorf("events: close subscription %s as %q: %w", s.subject, s.group, err)
	}
	return nil
}

func (t *stanTransport) close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	t.cancel()
	subs := t.subs
	t.subs = make(map[*subscription]stan.Subscription)
	sc := t.sc
	t.sc = nil
	t.mu.Unlock()

	t.wg.Wait()
	var errs []error
	for s, sub := range subs {
		s.drain()
		if sub != nil {
			if err := sub.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close subscription %s as %q: %w", s.subject, s.group, err))
			}
		}
	}
	if sc != nil {
		if err := sc.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close connection: %w", err))
		}
	}
	return errors.Join(errs...)
}

// stanDelivery is a NATS Streaming message. Its sequence is the channel's,
// and a poison message is acked: NATS Streaming has no other way to stop a
// redelivery.
type stanDelivery struct{ m *stan.Msg }

func (d stanDelivery) data() []byte { return d.m.Data }

func (d stanDelivery) meta() Meta {
	return Meta{
		Subject:         Subject(d.m.Subject),
		Sequence:        d.m.Sequence,
		Redelivered:     d.m.Redelivered,
		RedeliveryCount: d.m.RedeliveryCount,
		Timestamp:       time.Unix(0, d.m.Timestamp),
	}
}

func (d stanDelivery) ack() error    { return d.m.Ack() }
func (d stanDelivery) poison() error { return d.m.Ack() }
