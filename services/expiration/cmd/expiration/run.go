package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os/signal"
	"syscall"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ticketing/common/config"
	"github.com/ticketing/common/events"
	"github.com/ticketing/common/httpx"
	"github.com/ticketing/services/expiration/app"
)

type settings struct {
	port     int
	redis    asynq.RedisConnOpt
	nats     events.Config
	logLevel string
}

func loadSettings(getenv func(string) string) (settings, error) {
	env := config.New(getenv)
	s := settings{
		port: env.Int("PORT", 3000, 0, 65535),
		nats: events.Config{
			URL:       env.Required("NATS_URL"),
			ClusterID: env.Required("NATS_CLUSTER_ID"),
			ClientID:  env.Required("NATS_CLIENT_ID"),
		},
		logLevel: env.String("LOG_LEVEL", "info"),
	}
	redis, redisErr := redisOption(env)
	s.redis = redis
	// config.Env has no way to add a problem of our own, so the Redis one is
	// joined to its report: the message still names every bad variable.
	return s, errors.Join(env.Err(), redisErr)
}

// redisOption reads REDIS_URL (redis://[:password@]host:port[/db], or
// rediss:// for TLS) or, when it is unset, REDIS_HOST and REDIS_PORT.
func redisOption(env *config.Env) (asynq.RedisConnOpt, error) {
	raw := env.String("REDIS_URL", "")
	if raw == "" {
		host := env.String("REDIS_HOST", "")
		port := env.Int("REDIS_PORT", 6379, 1, 65535)
		if host == "" {
			return nil, errors.New("configuration: REDIS_URL (or REDIS_HOST) is not set")
		}
		return asynq.RedisClientOpt{Addr: net.JoinHostPort(host, fmt.Sprint(port))}, nil
	}
	// Errors name the variable but never echo its value, which may hold a password.
	bad := func(why string) error {
		return fmt.Errorf("configuration: REDIS_URL is not a redis://host:port[/db] URL: %s", why)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, bad("it does not parse")
	case u.Scheme != "redis" && u.Scheme != "rediss":
		return nil, bad(fmt.Sprintf("scheme %q is not redis or rediss", u.Scheme))
	case u.Host == "":
		return nil, bad("no host")
	}
	opt, err := asynq.ParseRedisURI(raw)
	if err != nil {
		return nil, bad(err.Error())
	}
	if o, ok := opt.(asynq.RedisClientOpt); ok && o.DB < 0 {
		return nil, bad(fmt.Sprintf("database %d is negative", o.DB))
	}
	return opt, nil
}

// connectTimeout bounds the wait for NATS at start: a pod that cannot reach
// it exits and is restarted, which shows in the cluster.
const connectTimeout = 30 * time.Second

// run serves until ctx ends or SIGINT/SIGTERM arrives, then stops the
// listeners and the timer server and closes NATS. Timers stay in Redis.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	cfg, err := loadSettings(getenv)
	if err != nil {
		return err
	}
	logger := config.Logger(stdout, "expiration", cfg.logLevel)

	cfg.nats.Logger = logger
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	conn, err := events.Connect(cctx, cfg.nats)
	cancel()
	if err != nil {
		return err
	}
	defer func() {
		if err := conn.Close(); err != nil {
			logger.Warn("closing NATS connection", "err", err)
		}
	}()

	a, err := app.New(ctx, app.Deps{Events: conn, Redis: cfg.redis, Logger: logger})
	if err != nil {
		return err
	}
	defer func() {
		if err := a.Close(); err != nil {
			logger.Warn("stopping the service", "err", err)
		}
	}()
	if err := a.Start(ctx); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", fmt.Sprintf(":%d", cfg.port))
	if err != nil {
		return fmt.Errorf("listen on port %d: %w", cfg.port, err)
	}
	return httpx.Serve(ctx, ln, a.Handler(), logger)
}
