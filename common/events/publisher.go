package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/stan.go"
)

// Publisher publishes on a Conn and waits for the server's ack, so a nil
// error means the event is stored by NATS Streaming.
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
	sc := p.conn.current()
	if sc == nil {
		return fmt.Errorf("events: publish %s: %w", subject, ErrNotConnected)
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
			return fmt.Errorf("events: publish %s: waiting for ack: %w", subject, ctx.Err())
		}
	}
	if err == nil {
		return nil
	}
	// A publish during an outage fails in several ways (connection closed,
	// reconnect buffer exceeded, ack timeout); callers only need to know that
	// the connection is the problem.
	if errors.Is(err, stan.ErrConnectionClosed) || errors.Is(err, stan.ErrBadConnection) || !p.conn.Connected() {
		return fmt.Errorf("events: publish %s: %w: %w", subject, ErrNotConnected, err)
	}
	return fmt.Errorf("events: publish %s: %w", subject, err)
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
