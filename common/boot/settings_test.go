package boot_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/boot"
	"github.com/ticketing/common/config"
	"github.com/ticketing/common/events"
	"github.com/ticketing/common/httpx"
	"github.com/ticketing/common/mongox"
	"github.com/ticketing/common/session"
)

func envOf(vars map[string]string) *config.Env {
	return config.New(func(k string) string { return vars[k] })
}

func TestReadSettingsValues(t *testing.T) {
	full := map[string]string{
		"PORT": "3002", "MONGO_URI": "mongodb://m:27017/tickets", "LOG_LEVEL": "debug",
		"NATS_URL": "nats://n:4222", "NATS_CLUSTER_ID": "ticketing", "NATS_CLIENT_ID": "tickets-1",
		"JWT_KEY": "k", "SESSION_TTL": "2h", "SESSION_COOKIE_NAME": "sid", "COOKIE_SECURE": "true",
		"TRUSTED_PROXIES": "10.0.0.0/8,127.0.0.1", "HTTP_MAX_IN_FLIGHT": "16", "OUTBOX_RELAY_WORKERS": "4",
		"OUTBOX_SWEEP_INTERVAL": "1h", "HTTP_QUEUE_TIMEOUT": "2m",
	}
	natsCfg := events.Config{Bus: events.BusStan, URL: "nats://n:4222", ClusterID: "ticketing", ClientID: "tickets-1"}
	sessCfg := session.Config{Key: []byte("k"), TTL: 2 * time.Hour, CookieName: "sid", CookieSecure: true}
	proxies := []string{"10.0.0.0/8", "127.0.0.1"}
	tests := []struct {
		name  string
		vars  map[string]string
		parts boot.Part
		want  boot.Settings
	}{
		{"every part", full, boot.Mongo | boot.NATS | boot.Sessions, boot.Settings{
			Port: 3002, MongoURI: "mongodb://m:27017/tickets", NATS: natsCfg, Session: sessCfg,
			LogLevel: "debug", TrustedProxies: proxies, MaxInFlight: 16, QueueTimeout: 2 * time.Minute, RelayWorkers: 4, RelaySweepInterval: time.Hour,
		}},
		{"auth's parts leave NATS and the outbox out", full, boot.Mongo | boot.Sessions, boot.Settings{
			Port: 3002, MongoURI: "mongodb://m:27017/tickets", Session: sessCfg, LogLevel: "debug", TrustedProxies: proxies,
			MaxInFlight: 16, QueueTimeout: 2 * time.Minute,
		}},
		{"expiration's part leaves Mongo, sessions and the outbox out", full, boot.NATS, boot.Settings{
			Port: 3002, NATS: natsCfg, LogLevel: "debug", TrustedProxies: proxies, MaxInFlight: 16, QueueTimeout: 2 * time.Minute,
		}},
		{"defaults", map[string]string{"MONGO_URI": "mongodb://m", "JWT_KEY": "k"}, boot.Mongo | boot.Sessions, boot.Settings{
			Port: 3000, MongoURI: "mongodb://m", LogLevel: "info", MaxInFlight: httpx.DefaultMaxInFlight, QueueTimeout: httpx.DefaultQueueTimeout,
			Session: session.Config{Key: []byte("k"), TTL: session.DefaultTTL, CookieName: session.DefaultCookieName},
		}},
		{"defaults sized for MongoDB's pool", map[string]string{
			"MONGO_URI": "mongodb://m", "NATS_URL": "nats://n:4222", "NATS_CLUSTER_ID": "ticketing", "NATS_CLIENT_ID": "tickets-1",
		}, boot.Mongo | boot.NATS, boot.Settings{
			Port: 3000, MongoURI: "mongodb://m", NATS: natsCfg, LogLevel: "info",
			MaxInFlight: 100, QueueTimeout: httpx.DefaultQueueTimeout, RelayWorkers: 16, RelaySweepInterval: mongox.DefaultSweepInterval,
		}},
		{"no parts", nil, 0, boot.Settings{Port: 3000, LogLevel: "info", MaxInFlight: httpx.DefaultMaxInFlight, QueueTimeout: httpx.DefaultQueueTimeout}},
		{"JetStream reads its stream settings and needs no cluster id", map[string]string{
			"EVENT_BUS": "jetstream", "NATS_URL": "nats://n:4222", "NATS_CLIENT_ID": "tickets-1", "NATS_CLUSTER_ID": "ignored",
			"JETSTREAM_REPLICAS": "3", "JETSTREAM_MAX_AGE": "72h", "JETSTREAM_MAX_BYTES": "805306368",
		}, boot.NATS, boot.Settings{
			Port: 3000, LogLevel: "info", MaxInFlight: httpx.DefaultMaxInFlight, QueueTimeout: httpx.DefaultQueueTimeout,
			NATS: events.Config{Bus: events.BusJetStream, URL: "nats://n:4222", ClientID: "tickets-1",
				JetStream: events.JetStreamConfig{Replicas: 3, MaxAge: 72 * time.Hour, MaxBytes: 805306368}},
		}},
		{"JetStream's defaults are the events package's", map[string]string{
			"EVENT_BUS": "jetstream", "NATS_URL": "nats://n:4222", "NATS_CLIENT_ID": "tickets-1",
		}, boot.NATS, boot.Settings{
			Port: 3000, LogLevel: "info", MaxInFlight: httpx.DefaultMaxInFlight, QueueTimeout: httpx.DefaultQueueTimeout,
			NATS: events.Config{Bus: events.BusJetStream, URL: "nats://n:4222", ClientID: "tickets-1"},
		}},
		{"NATS Streaming ignores the JetStream settings", map[string]string{
			"EVENT_BUS": "stan", "NATS_URL": "nats://n:4222", "NATS_CLUSTER_ID": "ticketing", "NATS_CLIENT_ID": "tickets-1",
			"JETSTREAM_REPLICAS": "many",
		}, boot.NATS, boot.Settings{Port: 3000, LogLevel: "info", MaxInFlight: httpx.DefaultMaxInFlight, QueueTimeout: httpx.DefaultQueueTimeout, NATS: natsCfg}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := envOf(tt.vars)
			got := boot.ReadSettings(env, tt.parts)
			require.NoError(t, env.Err())
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestReadSettingsNamesEveryProblem(t *testing.T) {
	allRequired := []string{"MONGO_URI", "NATS_URL", "NATS_CLUSTER_ID", "NATS_CLIENT_ID", "JWT_KEY"}
	tests := []struct {
		name    string
		vars    map[string]string
		parts   boot.Part
		want    []string // each named in the error
		notWant []string // none named
	}{
		{"nothing set, every part", nil, boot.Mongo | boot.NATS | boot.Sessions, allRequired, nil},
		{"nothing set, auth's parts", nil, boot.Mongo | boot.Sessions,
			[]string{"MONGO_URI", "JWT_KEY"}, []string{"NATS_URL", "NATS_CLUSTER_ID", "NATS_CLIENT_ID"}},
		{"nothing set, expiration's part", nil, boot.NATS,
			[]string{"NATS_URL", "NATS_CLUSTER_ID", "NATS_CLIENT_ID"}, []string{"MONGO_URI", "JWT_KEY"}},
		{"malformed and missing together", map[string]string{
			"PORT": "http", "SESSION_TTL": "soon", "COOKIE_SECURE": "maybe", "NATS_URL": "nats://n:4222",
		}, boot.Mongo | boot.NATS | boot.Sessions,
			[]string{`PORT="http"`, `SESSION_TTL="soon"`, `COOKIE_SECURE="maybe"`, "MONGO_URI", "NATS_CLUSTER_ID", "NATS_CLIENT_ID", "JWT_KEY"},
			[]string{"NATS_URL"}},
		{"port out of range", map[string]string{"PORT": "70000"}, 0, []string{`PORT="70000"`}, nil},
		{"unknown bus", map[string]string{"EVENT_BUS": "kafka"}, boot.NATS,
			[]string{`EVENT_BUS="kafka" is not one of stan, jetstream`, "NATS_CLUSTER_ID"}, nil},
		{"JetStream settings out of range", map[string]string{
			"EVENT_BUS": "jetstream", "NATS_URL": "nats://n:4222", "NATS_CLIENT_ID": "c",
			"JETSTREAM_REPLICAS": "0", "JETSTREAM_MAX_AGE": "forever", "JETSTREAM_MAX_BYTES": "1k",
		}, boot.NATS, []string{`JETSTREAM_REPLICAS="0"`, `JETSTREAM_MAX_AGE="forever"`, `JETSTREAM_MAX_BYTES="1k"`}, []string{"NATS_CLUSTER_ID"}},
		{"in-flight bound not a number", map[string]string{"HTTP_MAX_IN_FLIGHT": "many"}, 0,
			[]string{`HTTP_MAX_IN_FLIGHT="many" is not a whole number from 1 to 1000000`}, nil},
		{"in-flight bound of zero would let nothing in", map[string]string{"HTTP_MAX_IN_FLIGHT": "0"}, 0,
			[]string{`HTTP_MAX_IN_FLIGHT="0" is not a whole number from 1 to 1000000`}, nil},
		{"relay workers out of range", map[string]string{"OUTBOX_RELAY_WORKERS": "0"}, boot.Mongo | boot.NATS,
			[]string{`OUTBOX_RELAY_WORKERS="0" is not a whole number from 1 to 1024`}, nil},
		{"relay workers not a number", map[string]string{"OUTBOX_RELAY_WORKERS": "4x"}, boot.Mongo | boot.NATS,
			[]string{`OUTBOX_RELAY_WORKERS="4x"`}, nil},
		{"sweep interval not a duration", map[string]string{"OUTBOX_SWEEP_INTERVAL": "soon"}, boot.Mongo | boot.NATS,
			[]string{`OUTBOX_SWEEP_INTERVAL="soon"`}, nil},
		{"relay workers are not read without an outbox", map[string]string{"OUTBOX_RELAY_WORKERS": "0", "PORT": "-1"}, boot.Mongo,
			[]string{`PORT="-1"`}, []string{"OUTBOX_RELAY_WORKERS"}},
		{"malformed session settings are not read without sessions", map[string]string{
			"SESSION_TTL": "soon", "COOKIE_SECURE": "maybe", "PORT": "-1",
		}, boot.NATS, []string{`PORT="-1"`, "NATS_URL"}, []string{"SESSION_TTL", "COOKIE_SECURE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := envOf(tt.vars)
			boot.ReadSettings(env, tt.parts)
			err := env.Err()
			require.Error(t, err)
			for _, name := range tt.want {
				assert.Contains(t, err.Error(), name)
			}
			for _, name := range tt.notWant {
				assert.NotContains(t, err.Error(), name)
			}
		})
	}
}

// A service's own variables, read from the same env after the shared ones,
// are named in the same single message.
func TestReadSettingsSharesTheEnvWithTheService(t *testing.T) {
	env := envOf(map[string]string{"SIGNIN_MAX_FAILURES_PER_IP": "none"})
	boot.ReadSettings(env, boot.Mongo|boot.Sessions)
	env.Required("STRIPE_KEY")
	env.Int("SIGNIN_MAX_FAILURES_PER_IP", 50, 1, 1_000_000)
	err := env.Err()
	require.Error(t, err)
	for _, name := range []string{"MONGO_URI", "JWT_KEY", "STRIPE_KEY", "SIGNIN_MAX_FAILURES_PER_IP"} {
		assert.Contains(t, err.Error(), name)
	}
}
