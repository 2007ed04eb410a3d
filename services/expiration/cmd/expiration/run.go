package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os/signal"
	"strings"
	"syscall"

	"github.com/hibiken/asynq"

	"github.com/ticketing/common/boot"
	"github.com/ticketing/common/config"
	"github.com/ticketing/services/expiration/app"
)

type settings struct {
	boot.Settings
	redis asynq.RedisConnOpt
}

func loadSettings(getenv func(string) string) (settings, error) {
	env := config.New(getenv)
	s := settings{Settings: boot.ReadSettings(env, boot.NATS), redis: redisOption(env)}
	return s, env.Err()
}

// redisOption reads REDIS_SENTINELS (host:port,... of the Sentinels that
// know the Redis called REDIS_MASTER_NAME: a Redis set up for failover),
// else REDIS_URL (redis://[:password@]host:port[/db], or rediss:// for TLS),
// else REDIS_HOST and REDIS_PORT. A bad setting is a problem in env, named
// but never echoed: the URL may hold a password.
func redisOption(env *config.Env) asynq.RedisConnOpt {
	if sentinels := env.String("REDIS_SENTINELS", ""); sentinels != "" {
		return sentinelOption(env, sentinels)
	}
	raw := env.String("REDIS_URL", "")
	if raw == "" {
		host := env.String("REDIS_HOST", "")
		port := env.Int("REDIS_PORT", 6379, 1, 65535)
		if host == "" {
			env.Problem("REDIS_URL (or REDIS_HOST) is not set")
			return nil
		}
		return asynq.RedisClientOpt{Addr: net.JoinHostPort(host, fmt.Sprint(port))}
	}
	if why := badRedisURL(raw); why != "" {
		env.Problem("REDIS_URL is not a redis://host:port[/db] URL: %s", why)
		return nil
	}
	opt, err := asynq.ParseRedisURI(raw)
	if err != nil {
		env.Problem("REDIS_URL is not a redis://host:port[/db] URL: %s", err.Error())
		return nil
	}
	return opt
}

// sentinelOption is asynq's failover client for the Sentinels listed in
// sentinels: it asks them which Redis is the master and follows a failover.
func sentinelOption(env *config.Env, sentinels string) asynq.RedisConnOpt {
	master := env.String("REDIS_MASTER_NAME", "")
	if master == "" {
		env.Problem("REDIS_MASTER_NAME is not set (it names the Redis that REDIS_SENTINELS watch)")
	}
	var addrs []string
	for _, a := range strings.Split(sentinels, ",") {
		a = strings.TrimSpace(a)
		if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
			env.Problem("REDIS_SENTINELS: %q is not a host:port", a)
			continue
		}
		addrs = append(addrs, a)
	}
	if master == "" || len(addrs) == 0 {
		return nil
	}
	return asynq.RedisFailoverClientOpt{MasterName: master, SentinelAddrs: addrs}
}

// badRedisURL says what is wrong with raw beyond what asynq checks, or "".
func badRedisURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "it does not parse"
	case u.Scheme != "redis" && u.Scheme != "rediss":
		return fmt.Sprintf("scheme %q is not redis or rediss", u.Scheme)
	case u.Host == "":
		return "no host"
	}
	if opt, err := asynq.ParseRedisURI(raw); err == nil {
		if o, ok := opt.(asynq.RedisClientOpt); ok && o.DB < 0 {
			return fmt.Sprintf("database %d is negative", o.DB)
		}
	}
	return ""
}

// run serves until ctx ends or SIGINT/SIGTERM arrives, then stops the
// listeners and the timer server and closes NATS. Timers stay in Redis.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	cfg, err := loadSettings(getenv)
	if err != nil {
		return err
	}
	logger := config.Logger(stdout, "expiration", cfg.LogLevel)

	// A pod that cannot reach NATS within boot.ConnectTimeout exits and is
	// restarted, which shows in the cluster.
	conns, err := boot.Open(ctx, "expiration", cfg.Settings, logger)
	if err != nil {
		return err
	}
	defer func() {
		if err := conns.Close(); err != nil {
			logger.Warn("closing NATS connection", "err", err)
		}
	}()

	a, err := app.New(ctx, app.Deps{Events: conns.Events, Redis: cfg.redis, Logger: logger})
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

	return boot.Serve(ctx, cfg.Port, a.Handler(), logger)
}
