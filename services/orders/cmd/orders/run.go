package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ticketing/common/config"
	"github.com/ticketing/common/events"
	"github.com/ticketing/common/httpx"
	"github.com/ticketing/common/mongox"
	"github.com/ticketing/common/session"
	"github.com/ticketing/services/orders/app"
)

// connectTimeout bounds reaching Mongo and NATS at start-up, so a service
// pointed at the wrong place fails (and its pod restarts) instead of hanging.
const connectTimeout = 30 * time.Second

type settings struct {
	port             int
	mongoURI         string
	nats             events.Config
	session          session.Config
	logLevel         string
	trustedProxies   []string
	expirationWindow time.Duration
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
		logLevel: env.String("LOG_LEVEL", "info"),
		expirationWindow: time.Duration(env.Int("EXPIRATION_WINDOW_SECONDS",
			int(app.DefaultExpirationWindow/time.Second), 1, 365*24*3600)) * time.Second,
	}
	if p := env.String("TRUSTED_PROXIES", ""); p != "" {
		s.trustedProxies = strings.Split(p, ",")
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
	logger := config.Logger(stdout, "orders", cfg.logLevel)

	client, err := mongox.Connect(ctx, cfg.mongoURI, connectTimeout)
	if err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = client.Disconnect(dctx)
	}()
	dbName, err := mongox.DatabaseName(cfg.mongoURI, "orders")
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
	a, err := app.New(ctx, app.Deps{
		DB:               client.Database(dbName),
		Events:           conn,
		Sessions:         sessions,
		Logger:           logger,
		ExpirationWindow: cfg.expirationWindow,
		TrustedProxies:   cfg.trustedProxies,
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
