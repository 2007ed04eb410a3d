package main

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/events"
	"github.com/ticketing/common/testkit"
	"github.com/ticketing/services/expiration/internal/redistest"
)

// TestRun runs the real service (run, as main calls it) against an
// in-process NATS Streaming server and a database of the test Redis, and
// follows one order from order:created to expiration:complete.
func TestRun(t *testing.T) {
	nats := testkit.NATS(t)
	redis := redistest.DB(t)
	env := map[string]string{
		"PORT": "0", "NATS_URL": nats.URL(), "NATS_CLUSTER_ID": testkit.NATSClusterID,
		"NATS_CLIENT_ID": testkit.UniqueClientID(t), "REDIS_URL": redistest.URL(redis), "LOG_LEVEL": "debug",
	}
	svc := testkit.RunService(t, "expiration", run, env)
	base, logs := svc.URL, svc.Logs

	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, "/api/orders": 404} {
		resp, err := http.Get(base + path)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, want, resp.StatusCode, "%s: %s", path, body)
	}

	expired := make(chan string, 10)
	observer, err := events.Listen(nats.Connect(t), "test-observer",
		func(_ context.Context, e events.ExpirationComplete, _ events.Meta) error {
			expired <- e.OrderID
			return nil
		})
	require.NoError(t, err)
	t.Cleanup(func() { _ = observer.Close() })
	orderID := "0123456789abcdef01234567"
	require.NoError(t, events.NewPublisher(nats.Connect(t)).PublishEvent(context.Background(), events.OrderCreated{
		ID: orderID, Status: events.OrderStatusCreated, UserID: "aaaaaaaaaaaaaaaaaaaaaaaa",
		ExpiresAt: time.Now().Add(time.Second), Ticket: events.OrderCreatedTicket{ID: "bbbbbbbbbbbbbbbbbbbbbbbb", Price: 5},
	}))
	select {
	case got := <-expired:
		assert.Equal(t, orderID, got)
	case <-time.After(15 * time.Second):
		t.Fatal("no expiration:complete")
	}

	svc.Stop()
	assert.Contains(t, logs.String(), `"msg":"Exiting"`, "the timer server was shut down")
}

func TestConfigNamesEveryMissingVariable(t *testing.T) {
	err := run(context.Background(), func(k string) string {
		if k == "PORT" {
			return "http"
		}
		return ""
	}, io.Discard)
	require.Error(t, err)
	for _, name := range []string{"NATS_URL", "NATS_CLUSTER_ID", "NATS_CLIENT_ID", "REDIS_URL", "PORT"} {
		assert.Contains(t, err.Error(), name)
	}
}

func TestRedisSettings(t *testing.T) {
	base := map[string]string{"NATS_URL": "nats://n:4222", "NATS_CLUSTER_ID": "ticketing", "NATS_CLIENT_ID": "x"}
	tests := []struct {
		name string
		env  map[string]string
		want asynq.RedisConnOpt
		err  string // part of the error; "" for none
	}{
		{"url", map[string]string{"REDIS_URL": "redis://redis-srv:6379"}, asynq.RedisClientOpt{Addr: "redis-srv:6379"}, ""},
		{"url with database and password", map[string]string{"REDIS_URL": "redis://:s3cret@redis-srv:6380/3"},
			asynq.RedisClientOpt{Addr: "redis-srv:6380", DB: 3, Password: "s3cret"}, ""},
		{"host and port", map[string]string{"REDIS_HOST": "redis-srv", "REDIS_PORT": "6390"}, asynq.RedisClientOpt{Addr: "redis-srv:6390"}, ""},
		{"host, default port", map[string]string{"REDIS_HOST": "redis-srv"}, asynq.RedisClientOpt{Addr: "redis-srv:6379"}, ""},
		{"url wins over host", map[string]string{"REDIS_URL": "redis://a:1", "REDIS_HOST": "b"}, asynq.RedisClientOpt{Addr: "a:1"}, ""},
		{"nothing", nil, nil, "REDIS_URL (or REDIS_HOST) is not set"},
		{"not a redis url", map[string]string{"REDIS_URL": "http://:s3cret@redis-srv:6379"}, nil, `scheme "http"`},
		{"no host", map[string]string{"REDIS_URL": "redis://"}, nil, "no host"},
		{"bad database", map[string]string{"REDIS_URL": "redis://:s3cret@redis-srv:6379/one"}, nil, "database number"},
		{"unparsable", map[string]string{"REDIS_URL": "redis://:s3cret@[::1"}, nil, "does not parse"},
		{"bad port", map[string]string{"REDIS_HOST": "redis-srv", "REDIS_PORT": "0"}, nil, "REDIS_PORT"},
		{"sentinels win over a url", map[string]string{"REDIS_SENTINELS": "s1:26379, s2:26379", "REDIS_MASTER_NAME": "ticketing", "REDIS_URL": "redis://a:1"},
			asynq.RedisFailoverClientOpt{MasterName: "ticketing", SentinelAddrs: []string{"s1:26379", "s2:26379"}}, ""},
		{"sentinels without a master name", map[string]string{"REDIS_SENTINELS": "s1:26379"}, nil, "REDIS_MASTER_NAME is not set"},
		{"a sentinel without a port", map[string]string{"REDIS_SENTINELS": "s1", "REDIS_MASTER_NAME": "ticketing"}, nil, `REDIS_SENTINELS: "s1" is not a host:port`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := loadSettings(func(k string) string {
				if v, ok := tt.env[k]; ok {
					return v
				}
				return base[k]
			})
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				assert.NotContains(t, err.Error(), "s3cret", "the password never reaches the log")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, s.redis)
			assert.Equal(t, 3000, s.Port)
		})
	}
}

func TestConnectGivesUpWhenAsked(t *testing.T) {
	// No NATS at this address: run keeps trying until its context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	env := map[string]string{"NATS_URL": "nats://127.0.0.1:1", "NATS_CLUSTER_ID": "ticketing", "NATS_CLIENT_ID": "x", "REDIS_HOST": "127.0.0.1"}
	err := run(ctx, func(k string) string { return env[k] }, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nats://127.0.0.1:1")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
