// Package app wires the tickets service: its store, domain, routes,
// listeners and outbox relay. cmd/tickets runs it as a process; tests of
// other services run it in-process.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
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
	// Now is the clock; nil means time.Now. It stamps the payments the
	// service hears of (when a ticket was sold).
	Now func() time.Time
	// TrustedProxies are the addresses whose X-Forwarded-For is believed;
	// empty means loopback and private ranges (see httpx.Config).
	TrustedProxies []string
	// MaxInFlight bounds the requests handled at once (httpx.Config); 0
	// takes httpx's default.
	MaxInFlight int
	// QueueTimeout bounds a request's wait for one of those places
	// (httpx.Config); 0 takes httpx's default.
	QueueTimeout time.Duration
	// Relay tunes the outbox relay; zero values take mongox's defaults.
	Relay mongox.RelayOptions
	// ForSaleMax bounds the in-memory view of the tickets for sale
	// (ticket.ForSale); 0 takes ticket.DefaultForSaleMax.
	ForSaleMax int
	// ListenOptions are added to every listener's options, after the
	// service's own (tests shorten the ack wait with them).
	ListenOptions []events.ListenOption
}

// App is the wired service.
type App struct {
	deps   Deps
	log    *slog.Logger
	engine *gin.Engine
	relay  *mongox.Relay
	bg     boot.Background

	tickets  *store.Tickets
	svc      *ticket.Service
	view     *ticket.ForSale
	watchers []*events.Watcher // guarded by watchMu
	watchMu  sync.Mutex
}

// New checks d, creates the indexes and builds the HTTP handler. Nothing
// runs in the background until Start.
func New(ctx context.Context, d Deps) (*App, error) {
	if err := boot.RequireDeps("tickets",
		boot.Dep{Name: "DB", Missing: d.DB == nil},
		boot.Dep{Name: "Events", Missing: d.Events == nil},
		boot.Dep{Name: "Sessions", Missing: d.Sessions == nil},
	); err != nil {
		return nil, err
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}

	a := &App{deps: d, log: d.Logger}
	tickets := store.NewTickets(d.DB)
	a.relay = mongox.NewRelay(tickets.Collection(), events.NewPublisher(d.Events), d.Logger.With("component", "relay"), d.Relay)
	if err := tickets.EnsureIndexes(ctx); err != nil {
		return nil, err
	}
	a.tickets = tickets
	a.view = ticket.NewForSale(d.ForSaleMax, d.Logger)
	svc := ticket.NewService(tickets, ticket.WithView(a.view), ticket.WithNotify(a.relay.Notify),
		ticket.WithOrderTickets(store.NewOrderTickets(d.DB)), ticket.WithClock(d.Now))
	a.svc = svc

	engine, err := httpx.NewEngine(httpx.Config{
		Service:        "tickets",
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
		return nil, err
	}
	httpapi.Routes(engine, httpapi.NewHandlers(svc))
	a.engine = engine
	return a, nil
}

// Handler serves the routes, /healthz, /readyz and /metrics.
func (a *App) Handler() http.Handler { return a.engine }

// Start watches the ticket events and loads the view of the tickets for
// sale (watching first, so no change falls between the two), then
// subscribes the listeners and starts the outbox relay, which runs until
// Close (not until ctx ends, so events written while requests drain at
// shutdown still go out). It returns once all of that is done, so a process
// that starts serving after Start lists from a loaded view. A closed App
// does not start again.
func (a *App) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ws, err := listeners.WatchTickets(a.deps.Events, a.svc, a.log)
	if err != nil {
		return fmt.Errorf("tickets: %w", err)
	}
	a.watchMu.Lock()
	a.watchers = append(a.watchers, ws...)
	a.watchMu.Unlock()
	if err := a.view.Load(ctx, a.tickets); err != nil {
		return errors.Join(fmt.Errorf("tickets: %w", err), a.closeWatchers())
	}
	opts := append([]events.ListenOption{events.WithLogger(a.log)}, a.deps.ListenOptions...)
	err = a.bg.Start(ctx, func() ([]*events.Listener, error) {
		return listeners.Start(a.deps.Events, a.svc, a.log, opts...)
	}, a.relay)
	if err != nil {
		return errors.Join(fmt.Errorf("tickets: %w", err), a.closeWatchers())
	}
	return nil
}

// Close closes the listeners (keeping their durable position), letting the
// messages in hand finish, then stops the relay and waits for it, and ends
// the watch of ticket events. Events still pending go out when a new App
// starts. Closing twice is harmless.
func (a *App) Close() error {
	err := a.bg.Close()
	err = errors.Join(err, a.closeWatchers())
	if err != nil {
		return fmt.Errorf("tickets: close: %w", err)
	}
	return nil
}

func (a *App) closeWatchers() error {
	a.watchMu.Lock()
	ws := a.watchers
	a.watchers = nil
	a.watchMu.Unlock()
	var err error
	for _, w := range ws {
		err = errors.Join(err, w.Close())
	}
	return err
}
