package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
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

// ensureStream creates the stream, or updates it when its limits differ
// from the configured ones. It leaves a stream that is as configured alone:
// every process of the fleet runs this on every (re)connect, all at once
// after a server restart, and concurrent updates are both needless and, in
// nats-server 2.9, racy.
func (t *jsTransport) ensureStream(ctx context.Context) error {
	want := t.streamConfig()
	st, err := t.js.Stream(ctx, want.Name)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		// Another process may create it meanwhile; the server then answers
		// with it when the config is the same.
		_, err = t.js.CreateStream(ctx, want)
	case err == nil && !sameStream(st.CachedInfo().Config, want):
		t.log.Info("updating the stream's limits", "stream", want.Name)
		_, err = t.js.UpdateStream(ctx, want)
	}
	if err != nil {
		return fmt.Errorf("create or update stream %s: %w", want.Name, err)
	}
	return nil
}

func (t *jsTransport) streamConfig() jetstream.StreamConfig {
	c := t.cfg.JetStream
	return jetstream.StreamConfig{
		Name:        c.Stream,
		Description: "Ticketing events (CONTRACT.md §3)",
		// The subjects as they are on the wire: ':' is an ordinary
		// character in a NATS subject token, so no mapping is needed and
		// payloads and subjects stay those of NATS Streaming.
		Subjects:   allSubjects(),
		Retention:  jetstream.LimitsPolicy,
		Discard:    jetstream.DiscardOld,
		Storage:    jetstream.FileStorage,
		MaxAge:     c.MaxAge,
		MaxBytes:   c.MaxBytes,
		Replicas:   c.Replicas,
		Duplicates: c.DuplicateWindow,
	}
}

// sameStream compares what ensureStream sets.
func sameStream(got, want jetstream.StreamConfig) bool {
	return slices.Equal(slices.Sorted(slices.Values(got.Subjects)), slices.Sorted(slices.Values(want.Subjects))) &&
		got.MaxAge == want.MaxAge && got.MaxBytes == want.MaxBytes && got.Replicas == want.Replicas &&
		got.Duplicates == want.Duplicates && got.Storage == want.Storage &&
		got.Retention == want.Retention && got.Discard == want.Discard
}

// consumerName is the durable consumer of one queue group on one subject.
// NATS Streaming keeps a durable per channel; JetStream keeps consumers per
// stream, and one stream holds every subject, so the name carries both.
// ':' becomes '_' since consumer names also name files on the server.
func consumerName(group string, subject Subject) string {
	return group + "_" + strings.ReplaceAll(string(subject), ":", "_")
}

// consume creates or updates s's durable consumer and starts pulling. The
// consumer mirrors the NATS Streaming subscription: deliver everything the
// stream has when the group is new, explicit acks, the same ack wait, at
// most maxInflight unacked, and no limit on deliveries: a message comes back
// until it is acked or, when it is poison, terminated.
func (t *jsTransport) consume(ctx context.Context, s *subscription) (jetstream.ConsumeContext, error) {
	var name string
	cfg := jetstream.ConsumerConfig{
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       s.ackWait,
		MaxDeliver:    -1,
		MaxAckPending: s.maxInflight,
		FilterSubject: string(s.subject),
	}
	if s.watch != nil {
		name = watchConsumer(&cfg, s.watch)
	} else {
		name = consumerName(s.group, s.subject)
		cfg.Durable = name
	}
	cons, err := t.ensureConsumer(ctx, name, cfg)
	if err != nil {
		return nil, fmt.Errorf("events: create consumer %s for %s: %w", name, s.subject, err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) { s.deliver(jsDelivery{m}) },
		// The client buffers no more than the server lets be unacked.
		jetstream.PullMaxMessages(s.maxInflight),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) { t.onConsumeError(name, err) }),
	)
	if err != nil {
		return nil, fmt.Errorf("events: consume %s: %w", name, err)
	}
	return cc, nil
}

// ensureConsumer returns the durable consumer as cfg says, creating or
// updating it only when needed, for the reason ensureStream gives: every
// replica of a service sets up the same consumers at the same moments.
func (t *jsTransport) ensureConsumer(ctx context.Context, name string, cfg jetstream.ConsumerConfig) (jetstream.Consumer, error) {
	stream := t.cfg.JetStream.Stream
	if cfg.Durable != "" {
		cons, err := t.js.Consumer(ctx, stream, name)
		if err == nil && sameConsumer(cons.CachedInfo().Config, cfg) {
			return cons, nil
		}
		if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil, err
		}
	}
	return t.js.CreateOrUpdateConsumer(ctx, stream, cfg)
}

// sameConsumer compares what consume sets.
func sameConsumer(got, want jetstream.ConsumerConfig) bool {
	return got.FilterSubject == want.FilterSubject && got.DeliverPolicy == want.DeliverPolicy &&
		got.AckPolicy == want.AckPolicy && got.AckWait == want.AckWait &&
		got.MaxDeliver == want.MaxDeliver && got.MaxAckPending == want.MaxAckPending
}

// watchConsumer makes cfg a Watcher's consumer: ephemeral (the server
// removes it a minute after its process stops pulling), starting after the
// last message handed over or at the time Watch was called, and named for
// the log only.
func watchConsumer(cfg *jetstream.ConsumerConfig, w *watchState) string {
	cfg.InactiveThreshold = time.Minute
	cfg.MaxDeliver = 1 // a watcher's messages never come back
	if seq := w.lastSeq.Load(); seq > 0 {
		cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cfg.OptStartSeq = seq + 1
	} else {
		start := w.since
		cfg.DeliverPolicy = jetstream.DeliverByStartTimePolicy
		cfg.OptStartTime = &start
	}
	return "watch " + cfg.FilterSubject
}

// onConsumeError logs what the pull loop reports; a consumer that is gone
// (deleted by hand, or a server that lost its state without dropping the
// connection) is created again.
func (t *jsTransport) onConsumeError(name string, err error) {
	if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.log.Error("JetStream consumer is gone; creating it again", "consumer", name, "err", err)
		t.mu.Lock()
		t.live = false
		t.mu.Unlock()
		t.requestSetUp("consumer " + name + " gone")
		return
	}
	t.log.Warn("JetStream consume", "consumer", name, "err", err)
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
	if id := msgID(subject, data); id != "" {
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

// jsDelivery is a JetStream message. Its sequence is the stream's, which
// names the message (nats stream get TICKETING <seq>); a poison message is
// terminated, so the server stops redelivering it.
type jsDelivery struct{ m jetstream.Msg }

func (d jsDelivery) data() []byte { return d.m.Data() }

func (d jsDelivery) meta() Meta {
	meta := Meta{Subject: Subject(d.m.Subject())}
	md, err := d.m.Metadata()
	if err != nil {
		return meta
	}
	meta.Sequence = md.Sequence.Stream
	meta.Redelivered = md.NumDelivered > 1
	if md.NumDelivered > 1 {
		meta.RedeliveryCount = uint32(md.NumDelivered - 1)
	}
	meta.Timestamp = md.Timestamp
	return meta
}

func (d jsDelivery) ack() error    { return d.m.Ack() }
func (d jsDelivery) poison() error { return d.m.Term() }
