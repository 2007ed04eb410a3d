// Package app wires the orders service (store, order service, HTTP routes,
// listeners, outbox relay) from its dependencies, so that cmd/orders,
// cross-service tests and the load tools run the same service in-process.
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
	"github.com/ticketing/common/events"
	"github.com/ticketing/common/httpx"
	"github.com/ticketing/common/mongox"
	"github.com/ticketing/common/session"
	"github.com/ticketing/services/orders/internal/httpapi"
	"github.com/ticketing/services/orders/internal/listeners"
	"github.com/ticketing/services/orders/internal/order"
	"github.com/ticketing/services/orders/internal/store"
)

// DefaultExpirationWindow is how long an order holds its ticket when
// Deps.ExpirationWindow is zero (EXPIRATION_WINDOW_SECONDS=900).
const DefaultExpirationWindow = order.DefaultExpirationWindow

// Deps is what the orders service runs on.
type Deps struct {
	DB       *mongo.Database  // the service's own database
	Events   *events.Conn     // connected NATS Streaming connection
	Sessions *session.Manager // reads the session cookie
	Logger   *slog.Logger     // nil = discard
	Now      func() time.Time // nil = time.Now
	// ExpirationWindow is how long a new order holds its ticket; 0 means
	// DefaultExpirationWindow.
	ExpirationWindow time.Duration
	// TrustedProxies are the addresses whose X-Forwarded-For is believed;
	// empty means httpx's default (loopback and private ranges).
	TrustedProxies []string
	// MaxInFlight bounds the requests handled at once (httpx.Config); 0
	// takes httpx's default.
	MaxInFlight int
	// QueueTimeout bounds a request's wait for one of those places
	// (httpx.Config); 0 takes httpx's default.
	QueueTimeout time.Duration
	// ListenOptions are added to every listener's options, after the
	// logger; tests shorten the ack wait with events.WithAckWait.
	ListenOptions []events.ListenOption
	// Relay tunes the outbox relay; zero values take mongox's defaults.
	Relay mongox.RelayOptions
}

// App is one orders service instance.
type App struct {
	deps   Deps
	log    *slog.Logger
	engine *gin.Engine
	svc    *order.Service
	relay  *mongox.Relay
	bg     boot.Background
}

// New checks d, ensures the indexes (the unique reservation index is what
// makes reserving race-free, so the service does not start without it) and
// builds the HTTP engine. Nothing is subscribed until Start.
func New(ctx context.Context, d Deps) (*App, error) {
	if err := boot.RequireDeps("orders app",
		boot.Dep{Name: "DB", Missing: d.DB == nil},
		boot.Dep{Name: "Events", Missing: d.Events == nil},
		boot.Dep{Name: "Sessions", Missing: d.Sessions == nil},
	); err != nil {
		return nil, err
	}
	if d.ExpirationWindow < 0 {
		return nil, fmt.Errorf("orders app: expiration window %v is negative", d.ExpirationWindow)
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}

	orders := store.NewOrders(d.DB, d.Now)
	tickets := store.NewTickets(d.DB)
	if err := orders.EnsureIndexes(ctx); err != nil {
		return nil, fmt.Errorf("orders app: %w", err)
	}
	relay := mongox.NewRelay(orders.Collection(), events.NewPublisher(d.Events), d.Logger.With("component", "outbox"), d.Relay)
	svc, err := order.NewService(order.Config{
		Orders:  orders,
		Tickets: tickets,
		Holds:   store.NewHolds(d.DB),
		Notify:  relay.Notify,
		Now:     d.Now,
		Window:  d.ExpirationWindow,
	})
	if err != nil {
		return nil, fmt.Errorf("orders app: %w", err)
	}
	engine, err := httpx.NewEngine(httpx.Config{
		Service:        "orders",
		Logger:         d.Logger,
		Sessions:       d.Sessions,
		TrustedProxies: d.TrustedProxies,
		MaxInFlight:    d.MaxInFlight,
		QueueTimeout:   d.QueueTimeout,
		Collectors:     d.Events.Collectors(),
		Checks: []httpx.Check{
			{Name: "mongo", Fn: mongox.Ping(d.DB.Client())},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("orders app: %w", err)
	}
	httpapi.Routes(engine, httpapi.NewHandlers(svc))
	return &App{deps: d, log: d.Logger, engine: engine, svc: svc, relay: relay}, nil
}

// Handler is the HTTP handler: the orders routes plus /healthz, /readyz
// and /metrics.
func (a *App) Handler() http.Handler { return a.engine }

// Start subscribes the listeners (queue group events.GroupOrders) and
// starts the outbox relay, then returns. The relay runs until Close, not
// until ctx ends, so events written by requests that finish during a
// graceful shutdown still go out.
func (a *App) Start(ctx context.Context) error {
	opts := append([]events.ListenOption{events.WithLogger(a.log)}, a.deps.ListenOptions...)
	err := a.bg.Start(ctx, func() ([]*events.Listener, error) {
		return listeners.Start(a.deps.Events, a.svc, opts...)
	}, a.relay)
	if err != nil {
		return fmt.Errorf("orders app: %w", err)
	}
	return nil
}

// Close closes the listeners (Close, keeping the durable group's position),
// then stops the relay and waits for it. Closing twice is harmless.
func (a *App) Close() error {
	if err := a.bg.Close(); err != nil {
		return fmt.Errorf("orders app: close: %w", err)
	}
	return nil
}
