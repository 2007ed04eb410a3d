package main

import (
	"context"
	"errors"
	"io"
	"os/signal"
	"syscall"
	"time"

	"github.com/ticketing/common/boot"
	"github.com/ticketing/common/config"
	"github.com/ticketing/services/auth/app"
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
		maxPerEmail:   env.Int("SIGNIN_MAX_FAILURES_PER_EMAIL", app.DefaultMaxFailuresPerEmail, 1, 1_000_000),
		maxPerIP:      env.Int("SIGNIN_MAX_FAILURES_PER_IP", app.DefaultMaxFailuresPerIP, 1, 1_000_000),
		failureWindow: env.Duration("SIGNIN_FAILURE_WINDOW", app.DefaultFailureWindow),
	}
	return s, env.Err()
}

// run serves until ctx ends or SIGINT/SIGTERM arrives, then lets in-flight
// requests finish and disconnects from the database.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) (err error) {
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
	defer func() { err = errors.Join(err, conns.Close()) }()

	a, err := app.New(ctx, app.Deps{
		DB:                  conns.DB,
		Sessions:            conns.Sessions,
		Logger:              logger,
		MaxFailuresPerEmail: cfg.maxPerEmail,
		MaxFailuresPerIP:    cfg.maxPerIP,
		FailureWindow:       cfg.failureWindow,
		TrustedProxies:      cfg.TrustedProxies,
		MaxInFlight:         cfg.MaxInFlight,
		QueueTimeout:        cfg.QueueTimeout,
	})
	if err != nil {
		return err
	}
	if err := a.Start(ctx); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, a.Close()) }()

	return boot.Serve(ctx, cfg.Port, a.Handler(), logger)
}
