package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ticketing/common/config"
	"github.com/ticketing/common/events"
	"github.com/ticketing/common/httpx"
	"github.com/ticketing/common/mongox"
	"github.com/ticketing/common/session"
	"github.com/ticketing/services/payments/app"
)

// connectTimeout bounds reaching Mongo and NATS at start-up, so a service
// pointed at the wrong place fails (and its pod restarts) instead of hanging.
const connectTimeout = 30 * time.Second

type settings struct {
	port           int
	mongoURI       string
	nats           events.Config
	session        session.Config
	stripe         app.StripeConfig
	logLevel       string
	trustedProxies []string
}

func loadSettings(getenv func(string) string) (settings, error) {
	env := config.New(getenv)
	s := settings{
		port:     env.Int("PORT", 3000, 0, 65535),
		mongoURI: env.Required("MONGO_URI"),
		nats: events.Config{
			URL:       env.Required("NATS_URL"),
			ClusterID: env.Required("NATS_CLUSTER_ID"),
			ClientID:  env.Required("NATS_CLIENT_ID"),
		},
		session: session.Config{
			Key:          []byte(env.Required("JWT_KEY")),
			TTL:          env.Duration("SESSION_TTL", session.DefaultTTL),
			CookieName:   env.String("SESSION_COOKIE_NAME", session.DefaultCookieName),
			CookieSecure: env.Bool("COOKIE_SECURE", false),
		},
		stripe: app.StripeConfig{
			Key:     env.Required("STRIPE_KEY"),
			APIBase: env.String("STRIPE_API_BASE", ""),
		},
		logLevel: env.String("LOG_LEVEL", "info"),
	}
	if p := env.String("TRUSTED_PROXIES", ""); p != "" {
		s.trustedProxies = strings.Split(p, ",")
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
	logger := config.Logger(stdout, "payments", cfg.logLevel)

	client, err := mongox.Connect(ctx, cfg.mongoURI, connectTimeout)
	if err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = client.Disconnect(dctx)
	}()
	dbName, err := mongox.DatabaseName(cfg.mongoURI, "payments")
	if err != nil {
		return err
	}

	cfg.nats.Logger = logger
	nctx, cancel := context.WithTimeout(ctx, connectTimeout)
	conn, err := events.Connect(nctx, cfg.nats)
	cancel()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, conn.Close()) }()

	sessions, err := session.NewManager(cfg.session)
	if err != nil {
		return err
	}
	cfg.stripe.Logger = logger
	a, err := app.New(ctx, app.Deps{
		DB:             client.Database(dbName),
		Events:         conn,
		Sessions:       sessions,
		Logger:         logger,
		Stripe:         app.NewStripeClient(cfg.stripe),
		TrustedProxies: cfg.trustedProxies,
	})
	if err != nil {
		return err
	}
	if err := a.Start(ctx); err != nil {
		return err
	}
	// Runs before conn.Close above: listeners close while NATS is still up.
	defer func() { err = errors.Join(err, a.Close()) }()

	ln, err := net.Listen("tcp", fmt.Sprintf(":%d", cfg.port))
	if err != nil {
		return fmt.Errorf("listen on port %d: %w", cfg.port, err)
	}
	return httpx.Serve(ctx, ln, a.Handler(), logger)
}
