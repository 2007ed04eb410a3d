// Package app wires the auth service (user store, sign-in limits, HTTP
// routes) from its dependencies, so that cmd/auth and tests run the same
// service. Auth hears and publishes no events; what Start runs in the
// background is the sweep of old sign-in failure records.
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
	// FailureSweepInterval is how often records of old failures are
	// deleted; 0 means once per FailureWindow.
	FailureSweepInterval time.Duration
}

// App is one auth service instance.
type App struct {
	engine *gin.Engine
	sweep  failureSweep
	bg     boot.Background
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
	if err := failures.EnsureIndexes(ctx); err != nil {
		return nil, fmt.Errorf("auth app: %w", err)
	}
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
	sweep := failureSweep{failures: failures, window: d.FailureWindow, every: d.FailureSweepInterval,
		log: d.Logger.With("component", "failure-sweep")}
	return &App{engine: engine, sweep: sweep}, nil
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
	if d.FailureSweepInterval == 0 {
		d.FailureSweepInterval = d.FailureWindow
	}
	return d, nil
}

// Handler is the HTTP handler: the auth routes plus /healthz, /readyz and
// /metrics.
func (a *App) Handler() http.Handler { return a.engine }

// Start runs the sweep of old sign-in failures until Close.
func (a *App) Start(ctx context.Context) error { return a.bg.Start(ctx, nil, a.sweep) }

// Close stops the sweep.
func (a *App) Close() error { return a.bg.Close() }
