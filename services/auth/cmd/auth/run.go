package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ticketing/common/config"
	"github.com/ticketing/common/httpx"
	"github.com/ticketing/common/mongox"
	"github.com/ticketing/common/session"
	"github.com/ticketing/services/auth/internal/httpapi"
	"github.com/ticketing/services/auth/internal/store"
	"github.com/ticketing/services/auth/internal/user"
)

type settings struct {
	port           int
	mongoURI       string
	session        session.Config
	logLevel       string
	trustedProxies []string
	maxPerEmail    int
	maxPerIP       int
	failureWindow  time.Duration
}

func loadSettings(getenv func(string) string) (settings, error) {
	env := config.New(getenv)
	s := settings{
		port:     env.Int("PORT", 3000, 0, 65535),
		mongoURI: env.Required("MONGO_URI"),
		session: session.Config{
			Key:          []byte(env.Required("JWT_KEY")),
			TTL:          env.Duration("SESSION_TTL", session.DefaultTTL),
			CookieName:   env.String("SESSION_COOKIE_NAME", session.DefaultCookieName),
			CookieSecure: env.Bool("COOKIE_SECURE", false),
		},
		logLevel:      env.String("LOG_LEVEL", "info"),
		maxPerEmail:   env.Int("SIGNIN_MAX_FAILURES_PER_EMAIL", 5, 1, 1_000_000),
		maxPerIP:      env.Int("SIGNIN_MAX_FAILURES_PER_IP", 50, 1, 1_000_000),
		failureWindow: env.Duration("SIGNIN_FAILURE_WINDOW", 15*time.Minute),
	}
	if p := env.String("TRUSTED_PROXIES", ""); p != "" {
		s.trustedProxies = strings.Split(p, ",")
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
	logger := config.Logger(stdout, "auth", cfg.logLevel)

	client, err := mongox.Connect(ctx, cfg.mongoURI, 30*time.Second)
	if err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = client.Disconnect(dctx)
	}()
	dbName, err := mongox.DatabaseName(cfg.mongoURI, "auth")
	if err != nil {
		return err
	}
	users := store.NewUsers(client.Database(dbName))
	if err := users.EnsureIndexes(ctx); err != nil {
		return err
	}

	sessions, err := session.NewManager(cfg.session)
	if err != nil {
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
		Sessions:       sessions,
		TrustedProxies: cfg.trustedProxies,
		Checks:         []httpx.Check{{Name: "mongo", Fn: mongox.Ping(client)}},
	})
	if err != nil {
		return err
	}
	httpapi.Routes(engine, httpapi.NewHandlers(svc, sessions))

	ln, err := net.Listen("tcp", fmt.Sprintf(":%d", cfg.port))
	if err != nil {
		return fmt.Errorf("listen on port %d: %w", cfg.port, err)
	}
	return httpx.Serve(ctx, ln, engine, logger)
}
