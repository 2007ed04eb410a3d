package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ErrNotConnected is returned (wrapped) by publishes and readiness checks
// while the connection to the event bus is down. Callers keep their events
// (the outbox does) and try again later.
var ErrNotConnected = errors.New("not connected to the event bus")

// Config says where and how to connect. URL and ClientID are required, and
// ClusterID on NATS Streaming; the rest have defaults suited to a cluster.
type Config struct {
	// Bus selects NATS Streaming (the default) or JetStream.
	Bus Bus
	URL string
	// ClusterID is NATS Streaming's cluster id; JetStream has none.
	ClusterID string
	// ClientID must be unique among live connections (the pod name): NATS
	// Streaming refuses a second connection with the same id. On JetStream
	// it names the connection in the server's monitoring.
	ClientID string
	Logger   *slog.Logger
	// JetStream shapes the stream; only read on BusJetStream.
	JetStream JetStreamConfig

	// PingInterval and PingMaxOut decide how fast a dead server is noticed
	// when its connection does not close: after about
	// PingInterval*(PingMaxOut+1). stan.go counts the interval in whole seconds, so it is rounded down and at least 1 s. Defaults 2 s and 3.
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
	if cfg.Bus == "" {
		cfg.Bus = BusStan
	}
	if _, err := ParseBus(string(cfg.Bus)); err != nil {
		return err
	}
	if cfg.ClusterID == "" && cfg.Bus == BusStan {
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
	cfg.JetStream.applyDefaults()
	return nil
}

// Conn is one process's connection to the event bus, NATS Streaming or
// JetStream as Config.Bus says, and keeps it alive: after the server
// restarts it reconnects with backoff and re-creates every subscription made
// through it, so durable queue groups resume where they were (or, if the
// server lost its state, start over from the first message it has). The
// services see one surface whichever bus is behind it.
type Conn struct {
	cfg     Config
	t       transport
	metrics *metrics
}

// Connect dials until it succeeds or ctx ends. ctx only bounds this first
// connection; later reconnects run until Close.
func Connect(ctx context.Context, cfg Config) (*Conn, error) {
	if err := cfg.applyDefaults(); err != nil {
		return nil, err
	}
	c := &Conn{cfg: cfg}
	log := cfg.Logger.With("component", "nats", "clientId", cfg.ClientID, "bus", string(cfg.Bus))
	var err error
	switch cfg.Bus {
	case BusJetStream:
		c.t, err = dialJetStream(ctx, cfg, log)
	default:
		c.t, err = dialStan(ctx, cfg, log)
	}
	if err != nil {
		return nil, err
	}
	c.metrics = newMetrics(c)
	return c, nil
}

// Bus says which bus the connection is to.
func (c *Conn) Bus() Bus { return c.cfg.Bus }

// Connected reports whether the connection is up right now.
func (c *Conn) Connected() bool { return c.t.connected() }

// Ready is the NATS part of /readyz: an error while disconnected or when the
// server does not answer a round trip before ctx ends (2 s if ctx has no
// deadline).
func (c *Conn) Ready(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
	}
	return c.t.ready(ctx)
}

// Close stops reconnecting, drains and closes every subscription (keeping
// durable positions), then closes the connection.
func (c *Conn) Close() error {
	if err := c.t.close(); err != nil {
		return fmt.Errorf("events: close: %w", err)
	}
	return nil
}
