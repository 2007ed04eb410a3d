// Package app wires the tickets service: its store, domain, routes,
// listeners and outbox relay. cmd/tickets runs it as a process; tests of
// other services run it in-process.
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
	"github.com/ticketing/services/tickets/internal/httpapi"
	"github.com/ticketing/services/tickets/internal/listeners"
	"github.com/ticketing/services/tickets/internal/store"
	"github.com/ticketing/services/tickets/internal/ticket"
)

// Deps is what the service needs from outside.
type Deps struct {
	DB       *mongo.Database  // the service's own database
	Events   *events.Conn     // a connected NATS Streaming connection
	Sessions *session.Manager // reads the session cookie
	Logger   *slog.Logger     // nil discards
	// Now is the clock; nil means time.Now. The tickets service keeps no
	// times yet; the field is here so every service's Deps reads alike.
	Now func() time.Time
	// TrustedProxies are the addresses whose X-Forwarded-For is believed;
	// empty means loopback and private ranges (see httpx.Config).
	TrustedProxies []string
	// MaxInFlight bounds the requests handled at once (httpx.Config); 0
	// takes httpx's default.
	MaxInFlight int
	// Relay tunes the outbox relay; zero values take mongox's defaults.
	Relay mongox.RelayOptions
}

// App is the wired service.
type App struct {
	deps      Deps
	log       *slog.Logger
	engine    *gin.Engine
	relay     *mongox.Relay
	listeners *listeners.Listeners
	bg        boot.Background
}

// New checks d, creates the indexes and builds the HTTP handler. Nothing
// runs in the background until Start.
func New(ctx context.Context, d Deps) (*App, error) {
	var missing []string
	if d.DB == nil {
		missing = append(missing, "DB")
	}
	if d.Events == nil {
		missing = append(missing, "Events")
	}
	if d.Sessions == nil {
		missing = append(missing, "Sessions")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("tickets: missing dependencies %v", missing)
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}

	a := &App{deps: d, log: d.Logger}
	// The store wakes the relay after each write; the relay reads the
	// store's collection, so each needs the other: notify reads a.relay,
	// set on the next line, long before the first write.
	tickets := store.NewTickets(d.DB, func(ids ...string) { a.relay.Notify(ids...) })
	a.relay = mongox.NewRelay(tickets.Coll(), events.NewPublisher(d.Events), d.Logger.With("component", "relay"), d.Relay)
	if err := tickets.EnsureIndexes(ctx); err != nil {
		return nil, err
	}
	svc := ticket.NewService(tickets)
	a.listeners = listeners.New(svc, d.Logger)

	engine, err := httpx.NewEngine(httpx.Config{
		Service:        "tickets",
		Logger:         d.Logger,
		Sessions:       d.Sessions,
		TrustedProxies: d.TrustedProxies,
		MaxInFlight:    d.MaxInFlight,
		Collectors:     d.Events.Collectors(),
		Checks: []httpx.Check{
			{Name: "mongo", Fn: mongox.Ping(d.DB.Client())},
		},
	})
	if err != nil {
		return nil, err
	}
	httpapi.Routes(engine, httpapi.NewHandlers(svc))
	a.engine = engine
	return a, nil
}

// Handler serves the routes, /healthz, /readyz and /metrics.
func (a *App) Handler() http.Handler { return a.engine }

// Start subscribes the listeners and starts the outbox relay, which runs
// until Close (not until ctx ends, so events written while requests drain
// at shutdown still go out). It returns once the listeners are subscribed.
// A closed App does not start again.
func (a *App) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := a.bg.Start(ctx, func() ([]*events.Listener, error) {
		return a.listeners.Subscribe(a.deps.Events, events.WithLogger(a.log))
	}, a.relay)
	if err != nil {
		return fmt.Errorf("tickets: %w", err)
	}
	return nil
}

// Close closes the listeners (keeping their durable position), letting the
// messages in hand finish, then stops the relay and waits for it. Events
// still pending go out when a new App starts. Closing twice is harmless.
func (a *App) Close() error {
	if err := a.bg.Close(); err != nil {
		return fmt.Errorf("tickets: close: %w", err)
	}
	return nil
}
