package events

import (
	"fmt"
	"time"
)

// Bus names the server the events travel through. Both carry the same
// subjects and payloads; only the connection and subscription mechanics
// differ, and Conn hides them from the services.
type Bus string

const (
	// BusStan is NATS Streaming (stan.go): end of life, but the contract's
	// bus and the default, so services of the Node.js edition interoperate.
	BusStan Bus = "stan"
	// BusJetStream is NATS JetStream (nats-server v2): one stream holds the
	// six subjects, one durable pull consumer per queue group and subject.
	BusJetStream Bus = "jetstream"
)

// ParseBus reads EVENT_BUS; empty means BusStan.
func ParseBus(s string) (Bus, error) {
	switch Bus(s) {
	case "", BusStan:
		return BusStan, nil
	case BusJetStream:
		return BusJetStream, nil
	}
	return "", fmt.Errorf("events: unknown bus %q (want %q or %q)", s, BusStan, BusJetStream)
}

// JetStreamConfig shapes the one stream every service shares. Every service
// creates or updates it on connect with the same values (one ConfigMap in a
// cluster), so whichever comes first, the stream is the same.
type JetStreamConfig struct {
	// Stream is the stream's name. Default DefaultStream.
	Stream string
	// MaxAge drops messages older than this; a listener away longer loses
	// them, as with NATS Streaming's max_age. Default 7 days.
	MaxAge time.Duration
	// MaxBytes bounds the stream's size; the oldest messages go first.
	// Default 256 MiB, which fits the cluster's volumes.
	MaxBytes int64
	// Replicas is the number of servers holding each message: 1 on one
	// machine, 3 in the cluster's JetStream component. Default 1.
	Replicas int
	// DuplicateWindow is how long the server remembers a Nats-Msg-Id to drop
	// a repeated publish (an outbox relay that crashed between publishing and
	// removing the event sends it again on restart). Default 2 minutes.
	DuplicateWindow time.Duration
}

// DefaultStream is the stream's name unless configured otherwise.
const DefaultStream = "TICKETING"

func (c *JetStreamConfig) applyDefaults() {
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.MaxAge <= 0 {
		c.MaxAge = 7 * 24 * time.Hour
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 256 << 20
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.DuplicateWindow <= 0 {
		c.DuplicateWindow = 2 * time.Minute
	}
}

// AllSubjects are the subjects the stream holds: every one CONTRACT.md §3
// names.
func AllSubjects() []string {
	return []string{
		string(SubjectTicketCreated), string(SubjectTicketUpdated),
		string(SubjectOrderCreated), string(SubjectOrderCancelled),
		string(SubjectExpirationComplete), string(SubjectPaymentCreated),
	}
}
