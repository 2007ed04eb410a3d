package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nats-io/stan.go"
)

// ErrNotConnected is returned (wrapped) by publishes and readiness checks
// while the connection to NATS Streaming is down. Callers keep their events
// (the outbox does) and try again later.
var ErrNotConnected = errors.New("not connected to NATS Streaming")

// Config says where and how to connect. URL, ClusterID and ClientID are
// required; the rest have defaults suited to a cluster.
type Config struct {
	URL       string
	ClusterID string
	// ClientID must be unique among live connections (the pod name): the
	// server refuses a second connection with the same id.
	ClientID string
	Logger   *slog.Logger

	// PingInterval and PingMaxOut decide how fast a dead server is noticed:
	// after about PingInterval*(PingMaxOut+1). stan.go counts the interval in
	// whole seconds, so it is rounded down and at least 1 s. Defaults 2 s and 3.
	PingInterval time.Duration
	PingMaxOut   int
	// ConnectWait bounds one connection attempt. Default 2 s.
	ConnectWait time.Duration
	// PubAckWait bounds how long a publish waits for the server's ack when
	// its context has no earlier deadline. Default 5 s.
	PubAckWait time.Duration
	// MinBackoff and MaxBackoff bound the wait between connection attempts,
	// which doubles from the minimum. Defaults 100 ms and 5 s.
	MinBackoff time.Duration
	MaxBackoff time.Duration
}

func (cfg *Config) applyDefaults() error {
	var missing []string
	if cfg.URL == "" {
		missing = append(missing, "URL")
	}
	if cfg.ClusterID == "" {
		missing = append(missing, "ClusterID")
	}
	if cfg.ClientID == "" {
		missing = append(missing, "ClientID")
	}
	if len(missing) > 0 {
		return fmt.Errorf("events: config is missing %v", missing)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PingInterval < time.Second {
		cfg.PingInterval = 2 * time.Second
	}
	if cfg.PingMaxOut < 2 {
		cfg.PingMaxOut = 3
	}
	if cfg.ConnectWait <= 0 {
		cfg.ConnectWait = 2 * time.Second
	}
	if cfg.PubAckWait <= 0 {
		cfg.PubAckWait = 5 * time.Second
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 100 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(5*time.Second, cfg.MinBackoff)
	}
	return nil
}

// Conn owns a NATS Streaming connection and keeps it alive: stan.go does not
// come back by itself after the server restarts, so on loss Conn dials again
// with backoff and re-creates every subscription made through it. Durable
// queue groups then resume where they were (or, if the server lost its
// state, start over from the first message it has).
type Conn struct {
	cfg Config
	log *slog.Logger

	// ctx ends at Close and stops the reconnect loop.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	metrics *metrics

	mu     sync.RWMutex
	sc     stan.Conn // nil while disconnected
	subs   map[*subscription]struct{}
	closed bool
}

// subscription is what Conn needs to subscribe again after a reconnect.
type subscription struct {
	subject string
	group   string
	cb      stan.MsgHandler
	opts    []stan.SubscriptionOption
	// drain stops taking new messages and waits for the ones in flight, so
	// they can still be acked before the subscription closes.
	drain func()
	sub   stan.Subscription // guarded by Conn.mu; nil while disconnected
}

// Connect dials until it succeeds or ctx ends. ctx only bounds this first
// connection; later reconnects run until Close.
func Connect(ctx context.Context, cfg Config) (*Conn, error) {
	if err := cfg.applyDefaults(); err != nil {
		return nil, err
	}
	c := &Conn{
		cfg:  cfg,
		log:  cfg.Logger.With("component", "nats", "clientId", cfg.ClientID),
		subs: make(map[*subscription]struct{}),
	}
	c.metrics = newMetrics(c)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	if err := c.dialLoop(ctx); err != nil {
		c.cancel()
		return nil, fmt.Errorf("events: connect to NATS Streaming %s (cluster %q) as %q: %w",
			cfg.URL, cfg.ClusterID, cfg.ClientID, err)
	}
	c.log.Info("connected to NATS Streaming", "url", cfg.URL)
	return c, nil
}

// dialLoop tries dial with growing pauses until it succeeds or ctx ends.
func (c *Conn) dialLoop(ctx context.Context) error {
	backoff := c.cfg.MinBackoff
	for attempt := 1; ; attempt++ {
		err := c.dial()
		if err == nil {
			return nil
		}
		if errors.Is(err, errClosed) {
			return err
		}
		// Jitter keeps a fleet of replicas from reconnecting in lockstep.
		wait := backoff/2 + rand.N(backoff/2+1)
		c.log.Warn("NATS Streaming connection attempt failed", "attempt", attempt, "retryIn", wait.String(), "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (last attempt: %w)", ctx.Err(), err)
		case <-t.C:
		}
		backoff = min(backoff*2, c.cfg.MaxBackoff)
	}
}

var errClosed = errors.New("events: connection closed")

// dial makes one connection attempt and, if it works, subscribes everything
// registered so far. It installs the connection only if all of that works,
// so readers never see a connection that is missing subscriptions.
func (c *Conn) dial() error {
	sc, err := stan.Connect(c.cfg.ClusterID, c.cfg.ClientID,
		stan.NatsURL(c.cfg.URL),
		stan.ConnectWait(c.cfg.ConnectWait),
		stan.PubAckWait(c.cfg.PubAckWait),
		stan.Pings(int(c.cfg.PingInterval/time.Second), c.cfg.PingMaxOut),
		stan.SetConnectionLostHandler(c.onLost),
	)
	if err != nil {
		return err
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		closeQuietly(sc)
		return errClosed
	}
	// The lost handler may already have fired for sc (it ignores connections
	// that are not installed), so check it is still alive while holding the
	// lock: from here on a loss finds sc installed and is handled.
	if sc.NatsConn() == nil {
		return errors.New("connection lost right after it was made")
	}
	for s := range c.subs {
		sub, err := sc.QueueSubscribe(s.subject, s.group, s.cb, s.opts...)
		if err != nil {
			for s := range c.subs {
				s.sub = nil
			}
			closeQuietly(sc)
			return fmt.Errorf("subscribe %s as %q: %w", s.subject, s.group, err)
		}
		s.sub = sub
	}
	c.sc = sc
	return nil
}

// onLost runs (on its own goroutine, started by stan.go) when pings go
// unanswered or the server no longer knows this client.
func (c *Conn) onLost(lost stan.Conn, reason error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.sc != lost {
		return
	}
	c.sc = nil
	for s := range c.subs {
		s.sub = nil
	}
	c.log.Error("lost connection to NATS Streaming, reconnecting", "err", reason)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if err := c.dialLoop(c.ctx); err != nil {
			return // only when Close ended the loop
		}
		c.log.Info("reconnected to NATS Streaming", "url", c.cfg.URL)
	}()
}

func closeQuietly(sc stan.Conn) {
	// The server may be gone; the close request then times out, and there is
	// nothing more to do about it.
	_ = sc.Close()
}

// Connected reports whether the connection is up right now.
func (c *Conn) Connected() bool {
	sc := c.current()
	if sc == nil {
		return false
	}
	nc := sc.NatsConn()
	return nc != nil && nc.IsConnected()
}

// Ready is the NATS part of /readyz: an error while disconnected or when the
// server does not answer a round trip before ctx ends (2 s if ctx has no
// deadline).
func (c *Conn) Ready(ctx context.Context) error {
	sc := c.current()
	if sc == nil {
		return ErrNotConnected
	}
	nc := sc.NatsConn()
	if nc == nil || !nc.IsConnected() {
		return ErrNotConnected
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
	}
	if err := nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("%w: round trip to NATS failed: %w", ErrNotConnected, err)
	}
	return nil
}

func (c *Conn) current() stan.Conn {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.sc
}

// subscribe registers s so it survives reconnects. While connected it
// subscribes at once and returns the server's refusal, if any; while
// disconnected the reconnect will subscribe it.
func (c *Conn) subscribe(s *subscription) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errClosed
	}
	if c.sc != nil {
		sub, err := c.sc.QueueSubscribe(s.subject, s.group, s.cb, s.opts...)
		if err != nil {
			return fmt.Errorf("events: subscribe %s as %q: %w", s.subject, s.group, err)
		}
		s.sub = sub
	}
	c.subs[s] = struct{}{}
	return nil
}

// closeSubscription drains s and closes it on the server with Close, which,
// unlike Unsubscribe, keeps the durable queue group's position.
func (c *Conn) closeSubscription(s *subscription) error {
	c.mu.Lock()
	_, ok := c.subs[s]
	delete(c.subs, s)
	sub := s.sub
	s.sub = nil
	c.mu.Unlock()
	if !ok {
		return nil // Conn.Close got there first
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

// Close stops reconnecting, drains and closes every subscription (keeping
// durable positions), then closes the connection.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.cancel()
	type open struct {
		s   *subscription
		sub stan.Subscription
	}
	var subs []open
	for s := range c.subs {
		subs = append(subs, open{s, s.sub})
		s.sub = nil
	}
	clear(c.subs)
	sc := c.sc
	c.sc = nil
	c.mu.Unlock()

	c.wg.Wait()
	var errs []error
	for _, o := range subs {
		o.s.drain()
		if o.sub != nil {
			if err := o.sub.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close subscription %s as %q: %w", o.s.subject, o.s.group, err))
			}
		}
	}
	if sc != nil {
		if err := sc.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close connection: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("events: close: %w", err)
	}
	return nil
}
