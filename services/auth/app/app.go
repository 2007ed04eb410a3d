// Package app wires the auth service (user store, sign-in limits, HTTP
// routes) from its dependencies, so that cmd/auth and tests run the same
// service. Auth hears and publishes no events: Start and Close have
// nothing to run in the background, and exist so every service is driven
// the same way.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/common/boot"
	"github.com/ticketing/common/httpx"
	"github.com/ticketing/common/mongox"
	"github.com/ticketing/common/session"
	"github.com/ticketing/services/auth/internal/httpapi"
	"github.com/ticketing/services/auth/internal/store"
	"github.com/ticketing/services/auth/internal/user"
)

// Sign-in limits when Deps leaves them zero (SIGNIN_MAX_FAILURES_PER_EMAIL,
// SIGNIN_MAX_FAILURES_PER_IP, SIGNIN_FAILURE_WINDOW).
const (
	DefaultMaxFailuresPerEmail = 5
	DefaultMaxFailuresPerIP    = 50
	DefaultFailureWindow       = 15 * time.Minute
)

// Deps is what the auth service runs on.
type Deps struct {
	DB       *mongo.Database  // the service's own database
	Sessions *session.Manager // issues and reads the session cookie
	Logger   *slog.Logger     // nil = discard
	// MaxFailuresPerEmail and MaxFailuresPerIP are the failed sign-ins
	// allowed per email and per client address within FailureWindow.
	MaxFailuresPerEmail int
	MaxFailuresPerIP    int
	FailureWindow       time.Duration
	// TrustedProxies are the addresses whose X-Forwarded-For is believed;
	// empty means httpx's default (loopback and private ranges).
	TrustedProxies []string
	// MaxInFlight bounds the requests handled at once (httpx.Config); 0
	// takes httpx's default.
	MaxInFlight int
	// QueueTimeout bounds a request's wait for one of those places
	// (httpx.Config); 0 takes httpx's default.
	QueueTimeout time.Duration
}

// App is one auth service instance.
type App struct {
	engine *gin.Engine
}

// New checks d, ensures the indexes (the unique email index is what keeps
// two racing sign-ups from both getting one email, so the service does not
// start without it) and builds the HTTP engine.
func New(ctx context.Context, d Deps) (*App, error) {
	d, err := d.withDefaults()
	if err != nil {
		return nil, err
	}
	users := store.NewUsers(d.DB)
	if err := users.EnsureIndexes(ctx); err != nil {
		return nil, fmt.Errorf("auth app: %w", err)
	}
	// The sign-in limits are kept in the database, so every copy of the
	// service counts the same failures.
	failures := store.NewFailures(d.DB)
	svc, err := user.NewService(users,
		user.NewFailureLimiter(failures, d.MaxFailuresPerEmail, d.FailureWindow, nil),
		user.NewFailureLimiter(failures, d.MaxFailuresPerIP, d.FailureWindow, nil))
	if err != nil {
		return nil, fmt.Errorf("auth app: %w", err)
	}
	engine, err := httpx.NewEngine(httpx.Config{
		Service:        "auth",
		Logger:         d.Logger,
		Sessions:       d.Sessions,
		TrustedProxies: d.TrustedProxies,
		MaxInFlight:    d.MaxInFlight,
		QueueTimeout:   d.QueueTimeout,
		Checks:         []httpx.Check{{Name: "mongo", Fn: mongox.Ping(d.DB.Client())}},
	})
	if err != nil {
		return nil, fmt.Errorf("auth app: %w", err)
	}
	httpapi.Routes(engine, httpapi.NewHandlers(svc, d.Sessions))
	return &App{engine: engine}, nil
}

// withDefaults checks that d has what the service cannot run without and
// fills in the rest.
func (d Deps) withDefaults() (Deps, error) {
	if err := boot.RequireDeps("auth app",
		boot.Dep{Name: "DB", Missing: d.DB == nil},
		boot.Dep{Name: "Sessions", Missing: d.Sessions == nil},
	); err != nil {
		return d, err
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.MaxFailuresPerEmail == 0 {
		d.MaxFailuresPerEmail = DefaultMaxFailuresPerEmail
	}
	if d.MaxFailuresPerIP == 0 {
		d.MaxFailuresPerIP = DefaultMaxFailuresPerIP
	}
	if d.FailureWindow == 0 {
		d.FailureWindow = DefaultFailureWindow
	}
	return d, nil
}

// Handler is the HTTP handler: the auth routes plus /healthz, /readyz and
// /metrics.
func (a *App) Handler() http.Handler { return a.engine }

// Start has nothing to start: auth neither listens to nor publishes events.
func (a *App) Start(context.Context) error { return nil }

// Close has nothing to stop.
func (a *App) Close() error { return nil }
