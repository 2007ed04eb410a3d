// Package boot holds the start-up and shutdown steps every service process
// repeats: reading the shared settings, opening Mongo and NATS, serving
// HTTP, and running event listeners and outbox relays until Close. It knows
// no business rules; each service reads its own settings and wires its own
// parts around it.
package boot

import (
	"strings"
	"time"

	"github.com/ticketing/common/config"
	"github.com/ticketing/common/events"
	"github.com/ticketing/common/httpx"
	"github.com/ticketing/common/mongox"
	"github.com/ticketing/common/session"
)

// Part is a group of shared settings a service needs; combine with |.
type Part uint

const (
	// Mongo is MONGO_URI.
	Mongo Part = 1 << iota
	// NATS is EVENT_BUS, NATS_URL, NATS_CLUSTER_ID (NATS Streaming only),
	// NATS_CLIENT_ID and, on JetStream, JETSTREAM_REPLICAS,
	// JETSTREAM_MAX_AGE and JETSTREAM_MAX_BYTES.
	NATS
	// Sessions is JWT_KEY, SESSION_TTL, SESSION_COOKIE_NAME and COOKIE_SECURE.
	Sessions
)

// Settings are the variables services share. A part that was not asked for
// stays zero, and Open then leaves it out.
type Settings struct {
	Port           int            // PORT, default 3000; 0 takes any free port
	MongoURI       string         // MONGO_URI
	NATS           events.Config  // EVENT_BUS, NATS_*, JETSTREAM_*
	Session        session.Config // JWT_KEY, SESSION_TTL, SESSION_COOKIE_NAME, COOKIE_SECURE
	LogLevel       string         // LOG_LEVEL, default info
	TrustedProxies []string       // TRUSTED_PROXIES, comma-separated; nil = httpx's default
	// MaxInFlight is HTTP_MAX_IN_FLIGHT, the requests handled at once
	// (httpx.Config.MaxInFlight); default httpx.DefaultMaxInFlight.
	MaxInFlight int
	// QueueTimeout is HTTP_QUEUE_TIMEOUT, how long a request waits for one
	// of those places before it is answered 503 (httpx.Config.QueueTimeout);
	// default httpx.DefaultQueueTimeout.
	QueueTimeout time.Duration
	// RelayWorkers is OUTBOX_RELAY_WORKERS, the records the outbox relay
	// sends at once (mongox.RelayOptions.Workers); default
	// mongox.DefaultRelayWorkers. Read with Mongo and NATS, the parts an
	// outbox needs; zero otherwise.
	RelayWorkers int
	// RelaySweepInterval is OUTBOX_SWEEP_INTERVAL, how often the outbox
	// relay looks for events another process left pending
	// (mongox.RelayOptions.SweepInterval); default
	// mongox.DefaultSweepInterval. Read with RelayWorkers.
	RelaySweepInterval time.Duration
}

// ReadSettings reads PORT, LOG_LEVEL, TRUSTED_PROXIES, HTTP_MAX_IN_FLIGHT
// and the parts asked for. Problems stay in env, so that a service reads its own variables from
// the same env and env.Err() names every missing or malformed one at once.
func ReadSettings(env *config.Env, parts Part) Settings {
	s := Settings{Port: env.Int("PORT", 3000, 0, 65535)}
	if parts&Mongo != 0 {
		s.MongoURI = env.Required("MONGO_URI")
	}
	if parts&NATS != 0 {
		s.NATS = readBus(env)
	}
	if parts&Sessions != 0 {
		s.Session = session.Config{
			Key:          []byte(env.Required("JWT_KEY")),
			TTL:          env.Duration("SESSION_TTL", session.DefaultTTL),
			CookieName:   env.String("SESSION_COOKIE_NAME", session.DefaultCookieName),
			CookieSecure: env.Bool("COOKIE_SECURE", false),
		}
	}
	if parts&(Mongo|NATS) == Mongo|NATS {
		s.RelayWorkers = env.Int("OUTBOX_RELAY_WORKERS", mongox.DefaultRelayWorkers, 1, 1024)
		s.RelaySweepInterval = env.Duration("OUTBOX_SWEEP_INTERVAL", mongox.DefaultSweepInterval)
	}
	// Both exist for the database pool's sake: defaults fit MongoDB's, and a
	// smaller store (FerretDB on one connection, bin/local) sets smaller ones.
	s.MaxInFlight = env.Int("HTTP_MAX_IN_FLIGHT", httpx.DefaultMaxInFlight, 1, 1_000_000)
	s.QueueTimeout = env.Duration("HTTP_QUEUE_TIMEOUT", httpx.DefaultQueueTimeout)
	s.LogLevel = env.String("LOG_LEVEL", "info")
	if p := env.String("TRUSTED_PROXIES", ""); p != "" {
		s.TrustedProxies = strings.Split(p, ",")
	}
	return s
}

// readBus reads the event bus's settings: EVENT_BUS picks NATS Streaming
// (stan, the default) or JetStream, and each reads only its own variables.
func readBus(env *config.Env) events.Config {
	c := events.Config{
		Bus:      events.Bus(env.OneOf("EVENT_BUS", string(events.BusStan), string(events.BusStan), string(events.BusJetStream))),
		URL:      env.Required("NATS_URL"),
		ClientID: env.Required("NATS_CLIENT_ID"),
	}
	if c.Bus == events.BusStan {
		c.ClusterID = env.Required("NATS_CLUSTER_ID")
		return c
	}
	// Zero stays zero here; events fills in its defaults.
	c.JetStream = events.JetStreamConfig{
		Replicas: env.Int("JETSTREAM_REPLICAS", 0, 1, 5),
		MaxAge:   env.Duration("JETSTREAM_MAX_AGE", 0),
		MaxBytes: int64(env.Int("JETSTREAM_MAX_BYTES", 0, 1<<20, 1<<40)),
	}
	return c
}
