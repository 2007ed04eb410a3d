package main

import (
	"context"
	"io"
	"os/signal"
	"syscall"
	"time"

	"github.com/ticketing/common/boot"
	"github.com/ticketing/common/config"
	"github.com/ticketing/common/httpx"
	"github.com/ticketing/common/mongox"
	"github.com/ticketing/services/auth/internal/httpapi"
	"github.com/ticketing/services/auth/internal/store"
	"github.com/ticketing/services/auth/internal/user"
)

type settings struct {
	boot.Settings
	maxPerEmail   int
	maxPerIP      int
	failureWindow time.Duration
}

func loadSettings(getenv func(string) string) (settings, error) {
	env := config.New(getenv)
	s := settings{
		Settings:      boot.ReadSettings(env, boot.Mongo|boot.Sessions),
		maxPerEmail:   env.Int("SIGNIN_MAX_FAILURES_PER_EMAIL", 5, 1, 1_000_000),
		maxPerIP:      env.Int("SIGNIN_MAX_FAILURES_PER_IP", 50, 1, 1_000_000),
		failureWindow: env.Duration("SIGNIN_FAILURE_WINDOW", 15*time.Minute),
	}
	return s, env.Err()
}

// run serves until ctx ends or SIGINT/SIGTERM arrives, then lets in-flight
// requests finish and disconnects from the database.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	cfg, err := loadSettings(getenv)
	if err != nil {
		return err
	}
	logger := config.Logger(stdout, "auth", cfg.LogLevel)

	conns, err := boot.Open(ctx, "auth", cfg.Settings, logger)
	if err != nil {
		return err
	}
	// Without NATS, Close only disconnects from Mongo and has no error to report.
	defer func() { _ = conns.Close() }()
	users := store.NewUsers(conns.DB)
	if err := users.EnsureIndexes(ctx); err != nil {
		return err
	}

	svc, err := user.NewService(users,
		user.NewFailureLimiter(cfg.maxPerEmail, cfg.failureWindow, nil),
		user.NewFailureLimiter(cfg.maxPerIP, cfg.failureWindow, nil))
	if err != nil {
		return err
	}
	engine, err := httpx.NewEngine(httpx.Config{
		Service:        "auth",
		Logger:         logger,
		Sessions:       conns.Sessions,
		TrustedProxies: cfg.TrustedProxies,
		MaxInFlight:    cfg.MaxInFlight,
		QueueTimeout:   cfg.QueueTimeout,
		Checks:         []httpx.Check{{Name: "mongo", Fn: mongox.Ping(conns.Mongo)}},
	})
	if err != nil {
		return err
	}
	httpapi.Routes(engine, httpapi.NewHandlers(svc, conns.Sessions))

	return boot.Serve(ctx, cfg.Port, engine, logger)
}
