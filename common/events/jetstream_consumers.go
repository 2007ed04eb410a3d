package events

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

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
		Subjects:   AllSubjects(),
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

func (d jsDelivery) ack() error { return d.m.Ack() }

func (d jsDelivery) poison() error { return d.m.Term() }
