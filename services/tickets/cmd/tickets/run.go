package main

import (
	"context"
	"errors"
	"io"
	"os/signal"
	"syscall"

	"github.com/ticketing/common/boot"
	"github.com/ticketing/common/config"
	"github.com/ticketing/common/mongox"
	"github.com/ticketing/services/tickets/app"
)

func loadSettings(getenv func(string) string) (boot.Settings, error) {
	env := config.New(getenv)
	s := boot.ReadSettings(env, boot.Mongo|boot.NATS|boot.Sessions)
	return s, env.Err()
}

// run serves until ctx ends or SIGINT/SIGTERM arrives, then lets in-flight
// requests finish, closes the listeners (keeping their durable position) and
// the relay, and disconnects from NATS and the database.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) (err error) {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	cfg, err := loadSettings(getenv)
	if err != nil {
		return err
	}
	logger := config.Logger(stdout, "tickets", cfg.LogLevel)

	conns, err := boot.Open(ctx, "tickets", cfg, logger)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, conns.Close()) }()

	a, err := app.New(ctx, app.Deps{
		DB:             conns.DB,
		Events:         conns.Events,
		Sessions:       conns.Sessions,
		Logger:         logger,
		TrustedProxies: cfg.TrustedProxies,
		MaxInFlight:    cfg.MaxInFlight,
		Relay:          mongox.RelayOptions{Workers: cfg.RelayWorkers},
	})
	if err != nil {
		return err
	}
	if err := a.Start(ctx); err != nil {
		return err
	}
	// Deferred after conns.Close, so it runs first: listeners and relay stop
	// while NATS is still connected.
	defer func() { err = errors.Join(err, a.Close()) }()

	return boot.Serve(ctx, cfg.Port, a.Handler(), logger)
}
