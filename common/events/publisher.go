package events

import (
	"context"
	"encoding/json"
	"fmt"
)

// Publisher publishes on a Conn and waits for the server's ack, so a nil
// error means the bus has stored the event. On JetStream a publish carries a
// Nats-Msg-Id made from the event (see msgID), so an event published twice
// within the stream's duplicate window is stored once.
type Publisher struct {
	conn *Conn
}

// NewPublisher returns a Publisher that uses conn, including the connection
// conn makes after a reconnect.
func NewPublisher(conn *Conn) *Publisher {
	return &Publisher{conn: conn}
}

// Publish sends pre-encoded data (the outbox relay stores events already
// encoded) and waits for the server's ack until ctx ends or the connection's
// PubAckWait passes. While disconnected it fails at once with an error
// wrapping ErrNotConnected rather than queueing: the caller keeps the event.
func (p *Publisher) Publish(ctx context.Context, subject string, data []byte) error {
	err := p.publish(ctx, subject, data)
	p.conn.metrics.recordPublish(subject, err)
	return err
}

func (p *Publisher) publish(ctx context.Context, subject string, data []byte) error {
	if !p.conn.t.connected() {
		return fmt.Errorf("events: publish %s: %w", subject, ErrNotConnected)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.conn.cfg.PubAckWait)
		defer cancel()
	}
	if err := p.conn.t.publish(ctx, subject, data); err != nil {
		return fmt.Errorf("events: publish %s: %w", subject, err)
	}
	return nil
}

// PublishEvent validates and encodes p, then publishes it on its subject.
func (p *Publisher) PublishEvent(ctx context.Context, payload Payload) error {
	if err := payload.Validate(); err != nil {
		return fmt.Errorf("events: refusing to publish: %w", err)
	}
	data, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("events: encode %s: %w", payload.Subject(), err)
	}
	return p.Publish(ctx, string(payload.Subject()), data)
}
