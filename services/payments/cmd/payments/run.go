package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os/signal"
	"syscall"

	"github.com/ticketing/common/boot"
	"github.com/ticketing/common/config"
	"github.com/ticketing/common/mongox"
	"github.com/ticketing/services/payments/app"
)

type settings struct {
	boot.Settings
	stripe        app.StripeConfig
	webhookSecret string
}

func loadSettings(getenv func(string) string) (settings, error) {
	env := config.New(getenv)
	s := settings{
		Settings: boot.ReadSettings(env, boot.Mongo|boot.NATS|boot.Sessions),
		stripe: app.StripeConfig{
			Key:     env.Required("STRIPE_KEY"),
			APIBase: env.String("STRIPE_API_BASE", ""),
		},
		// Optional: without it the webhook route is off (404).
		webhookSecret: env.String("STRIPE_WEBHOOK_SECRET", ""),
	}
	err := env.Err()
	if base := s.stripe.APIBase; base != "" {
		if u, perr := url.Parse(base); perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			err = errors.Join(err, fmt.Errorf("configuration: STRIPE_API_BASE=%q is not an http(s) URL", base))
		}
	}
	return s, err
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
	logger := config.Logger(stdout, "payments", cfg.LogLevel)

	conns, err := boot.Open(ctx, "payments", cfg.Settings, logger)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, conns.Close()) }()

	cfg.stripe.Logger = logger
	a, err := app.New(ctx, app.Deps{
		DB:                  conns.DB,
		Events:              conns.Events,
		Sessions:            conns.Sessions,
		Logger:              logger,
		Stripe:              app.NewStripeClient(cfg.stripe),
		StripeWebhookSecret: cfg.webhookSecret,
		TrustedProxies:      cfg.TrustedProxies,
		MaxInFlight:         cfg.MaxInFlight,
		QueueTimeout:        cfg.QueueTimeout,
		Relay:               mongox.RelayOptions{Workers: cfg.RelayWorkers, SweepInterval: cfg.RelaySweepInterval},
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
