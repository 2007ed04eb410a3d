package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// jsAPITimeout bounds one JetStream API call (stream or consumer create or
// update). A replicated stream answers once its peers agree, which takes
// longer than a plain round trip.
const jsAPITimeout = 5 * time.Second

// jsTransport runs the bus on NATS JetStream. nats.go reconnects by itself
// and re-subscribes its core subscriptions, but a pull consumer's pending
// requests die with the connection and a restarted server may have lost the
// stream, so on every reconnect this transport stops its consumers, makes
// sure the stream and each durable consumer exist, and consumes again.
type jsTransport struct {
	cfg Config
	log *slog.Logger
	nc  *nats.Conn
	js  jetstream.JetStream

	// ctx ends at close; it stops the set-up loop.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// kick asks the set-up loop to (re)create the stream and consumers.
	kick chan string

	mu sync.RWMutex
	// subs maps each registered subscription to its running consume, nil
	// until the next set-up.
	subs map[*subscription]jetstream.ConsumeContext
	// live is true while the stream and every consumer are in place for
	// the current connection.
	live bool
	// everSetUp tells a reconnect from the first connection, which
	// dialJetStream logs itself.
	everSetUp bool
	closed    bool
}

func dialJetStream(ctx context.Context, cfg Config, log *slog.Logger) (*jsTransport, error) {
	t := &jsTransport{
		cfg:  cfg,
		log:  log,
		kick: make(chan string, 1),
		subs: make(map[*subscription]jetstream.ConsumeContext),
	}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	var err error
	for attempt := 1; ; attempt++ {
		if err = t.dial(); err == nil {
			break
		}
		wait := backoff(attempt, cfg.MinBackoff, cfg.MaxBackoff)
		t.log.Warn("NATS JetStream connection attempt failed", "attempt", attempt, "retryIn", wait.String(), "err", err)
		if !sleepCtx(ctx, wait) {
			t.cancel()
			return nil, fmt.Errorf("events: connect to NATS JetStream %s as %q: %w (last attempt: %w)",
				cfg.URL, cfg.ClientID, ctx.Err(), err)
		}
	}
	t.wg.Add(1)
	go t.setUpLoop()
	t.log.Info("connected to NATS JetStream", "url", cfg.URL, "stream", cfg.JetStream.Stream)
	return t, nil
}

// dial connects and creates or updates the stream; a server without
// JetStream (or a cluster still electing its leader) fails here and is
// tried again.
func (t *jsTransport) dial() error {
	nc, err := nats.Connect(t.cfg.URL,
		nats.Name(t.cfg.ClientID),
		nats.Timeout(t.cfg.ConnectWait),
		nats.PingInterval(t.cfg.PingInterval),
		nats.MaxPingsOutstanding(t.cfg.PingMaxOut),
		nats.MaxReconnects(-1),
		nats.CustomReconnectDelay(func(attempts int) time.Duration {
			return backoff(attempts, t.cfg.MinBackoff, t.cfg.MaxBackoff)
		}),
		nats.DisconnectErrHandler(t.onDisconnect),
		nats.ReconnectHandler(func(*nats.Conn) { t.requestSetUp("reconnected") }),
	)
	if err != nil {
		return err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return err
	}
	t.mu.Lock()
	t.nc, t.js = nc, js
	t.mu.Unlock()
	if err := t.setUp(); err != nil {
		t.mu.Lock()
		t.nc, t.js = nil, nil
		t.mu.Unlock()
		nc.Close()
		return err
	}
	return nil
}

// onDisconnect stops every consume: their pull requests are gone with the
// connection, and set-up starts them again once nats.go has reconnected.
// Messages in flight finish; their acks fail and the server redelivers them.
func (t *jsTransport) onDisconnect(_ *nats.Conn, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	for s, cc := range t.subs {
		if cc != nil {
			cc.Stop()
		}
		t.subs[s] = nil
	}
	if t.live {
		t.live = false
		t.log.Error("lost connection to NATS JetStream, reconnecting", "err", err)
	}
}

func (t *jsTransport) requestSetUp(reason string) {
	select {
	case t.kick <- reason:
	default: // one is pending already and will see every subscription
	}
}

// setUpLoop re-creates the stream and consumers when asked, with backoff
// until it works or the transport closes.
func (t *jsTransport) setUpLoop() {
	defer t.wg.Done()
	for {
		var reason string
		select {
		case <-t.ctx.Done():
			return
		case reason = <-t.kick:
		}
		for attempt := 1; ; attempt++ {
			err := t.setUp()
			if err == nil {
				break
			}
			if errors.Is(err, errClosed) {
				return
			}
			wait := backoff(attempt, t.cfg.MinBackoff, t.cfg.MaxBackoff)
			t.log.Warn("NATS JetStream set-up failed", "reason", reason, "attempt", attempt, "retryIn", wait.String(), "err", err)
			if !sleepCtx(t.ctx, wait) {
				return
			}
		}
	}
}

// setUp makes sure the stream exists with the configured limits, then
// (re)starts a consume on every registered subscription. It holds the lock
// throughout, so a listener that subscribes meanwhile is set up exactly once.
func (t *jsTransport) setUp() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return errClosed
	}
	if t.nc == nil || !t.nc.IsConnected() {
		return ErrNotConnected
	}
	ctx, cancel := context.WithTimeout(t.ctx, jsAPITimeout)
	defer cancel()
	if err := t.ensureStream(ctx); err != nil {
		return err
	}
	for s, cc := range t.subs {
		if cc != nil {
			cc.Stop()
			t.subs[s] = nil
		}
		cc, err := t.consume(ctx, s)
		if err != nil {
			return err
		}
		t.subs[s] = cc
	}
	if !t.live && t.everSetUp {
		t.log.Info("reconnected to NATS JetStream", "url", t.cfg.URL)
	}
	t.live, t.everSetUp = true, true
	return nil
}

func (t *jsTransport) connected() bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return !t.closed && t.live && t.nc != nil && t.nc.IsConnected()
}

func (t *jsTransport) ready(ctx context.Context) error {
	if !t.connected() {
		return ErrNotConnected
	}
	if err := t.nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("%w: round trip to NATS failed: %w", ErrNotConnected, err)
	}
	return nil
}

func (t *jsTransport) publish(ctx context.Context, subject string, data []byte) error {
	var opts []jetstream.PublishOpt
	if id := MsgID(subject, data); id != "" {
		opts = append(opts, jetstream.WithMsgID(id))
	}
	_, err := t.js.PublishMsg(ctx, &nats.Msg{Subject: subject, Data: data}, opts...)
	if err == nil {
		return nil
	}
	if errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrConnectionReconnecting) || !t.connected() {
		return fmt.Errorf("%w: %w", ErrNotConnected, err)
	}
	return err
}

func (t *jsTransport) subscribe(s *subscription) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return errClosed
	}
	var cc jetstream.ConsumeContext
	if t.live {
		ctx, cancel := context.WithTimeout(t.ctx, jsAPITimeout)
		defer cancel()
		var err error
		if cc, err = t.consume(ctx, s); err != nil {
			return err
		}
	}
	t.subs[s] = cc
	return nil
}

// closeSubscription stops pulling for s. The durable consumer stays on the
// server with the group's position, as Close keeps a NATS Streaming durable.
func (t *jsTransport) closeSubscription(s *subscription) error {
	t.mu.Lock()
	cc, ok := t.subs[s]
	delete(t.subs, s)
	t.mu.Unlock()
	if !ok {
		return nil // close got there first
	}
	s.drain()
	if cc != nil {
		cc.Stop()
	}
	t.mu.RLock()
	nc := t.nc
	t.mu.RUnlock()
	t.flush(nc)
	return nil
}

// flush sends the acks of the messages just drained before the caller goes
// on (a closed connection would drop them, and the server would redeliver).
func (t *jsTransport) flush(nc *nats.Conn) {
	if nc == nil || !nc.IsConnected() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := nc.FlushWithContext(ctx); err != nil {
		t.log.Warn("flushing acks failed; their messages will be redelivered", "err", err)
	}
}

func (t *jsTransport) close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	t.live = false
	t.cancel()
	subs := t.subs
	t.subs = make(map[*subscription]jetstream.ConsumeContext)
	nc := t.nc
	t.mu.Unlock()

	t.wg.Wait()
	for s, cc := range subs {
		s.drain()
		if cc != nil {
			cc.Stop()
		}
	}
	t.flush(nc)
	if nc != nil {
		nc.Close()
	}
	return nil
}
