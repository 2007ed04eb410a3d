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
	"github.com/ticketing/common/mongox"
	"github.com/ticketing/services/orders/app"
)

type settings struct {
	boot.Settings
	expirationWindow time.Duration
}

func loadSettings(getenv func(string) string) (settings, error) {
	env := config.New(getenv)
	s := settings{
		Settings: boot.ReadSettings(env, boot.Mongo|boot.NATS|boot.Sessions),
		expirationWindow: time.Duration(env.Int("EXPIRATION_WINDOW_SECONDS",
			int(app.DefaultExpirationWindow/time.Second), 1, 365*24*3600)) * time.Second,
	}
	return s, env.Err()
}

// run serves until ctx ends or SIGINT/SIGTERM arrives, then lets in-flight
// requests finish, closes the listeners (keeping the durable group), stops
// the relay, and disconnects from NATS and the database.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) (err error) {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	cfg, err := loadSettings(getenv)
	if err != nil {
		return err
	}
	logger := config.Logger(stdout, "orders", cfg.LogLevel)

	conns, err := boot.Open(ctx, "orders", cfg.Settings, logger)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, conns.Close()) }()

	a, err := app.New(ctx, app.Deps{
		DB:               conns.DB,
		Events:           conns.Events,
		Sessions:         conns.Sessions,
		Logger:           logger,
		ExpirationWindow: cfg.expirationWindow,
		TrustedProxies:   cfg.TrustedProxies,
		MaxInFlight:      cfg.MaxInFlight,
		QueueTimeout:     cfg.QueueTimeout,
		Relay:            mongox.RelayOptions{Workers: cfg.RelayWorkers, SweepInterval: cfg.RelaySweepInterval},
	})
	if err != nil {
		return err
	}
	if err := a.Start(ctx); err != nil {
		return err
	}
	// Runs before conns.Close above: listeners close while NATS is still up.
	defer func() { err = errors.Join(err, a.Close()) }()

	return boot.Serve(ctx, cfg.Port, a.Handler(), logger)
}
