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
	"github.com/ticketing/services/tickets/internal/ticket"
)

// settings are the shared ones and the tickets service's own.
type settings struct {
	boot.Settings
	// ForSaleMax is FOR_SALE_VIEW_MAX, the bound on the in-memory view of
	// the tickets for sale (ticket.ForSale).
	ForSaleMax int
}

func loadSettings(getenv func(string) string) (settings, error) {
	env := config.New(getenv)
	s := settings{Settings: boot.ReadSettings(env, boot.Mongo|boot.NATS|boot.Sessions)}
	s.ForSaleMax = env.Int("FOR_SALE_VIEW_MAX", ticket.DefaultForSaleMax, 1, 1_000_000_000)
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

	conns, err := boot.Open(ctx, "tickets", cfg.Settings, logger)
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
		QueueTimeout:   cfg.QueueTimeout,
		Relay:          mongox.RelayOptions{Workers: cfg.RelayWorkers, SweepInterval: cfg.RelaySweepInterval},
		ForSaleMax:     cfg.ForSaleMax,
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
