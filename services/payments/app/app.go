// Package app wires the payments service (orders replica, payment records,
// Stripe gateway, HTTP route, listeners, outbox relay) from its
// dependencies, so that cmd/payments, cross-service tests and the load
// tools run the same service in-process.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stripe/stripe-go/v76/client"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/common/boot"
	"github.com/ticketing/common/events"
	"github.com/ticketing/common/httpx"
	"github.com/ticketing/common/mongox"
	"github.com/ticketing/common/session"
	"github.com/ticketing/services/payments/internal/httpapi"
	"github.com/ticketing/services/payments/internal/listeners"
	"github.com/ticketing/services/payments/internal/payment"
	"github.com/ticketing/services/payments/internal/store"
	"github.com/ticketing/services/payments/internal/stripegw"
)

// Deps is what the payments service runs on.
type Deps struct {
	DB       *mongo.Database  // the service's own database
	Events   *events.Conn     // connected NATS Streaming connection
	Sessions *session.Manager // reads the session cookie
	Logger   *slog.Logger     // nil = discard
	Now      func() time.Time // nil = time.Now
	// Stripe is the stripe-go client; build it with NewStripeClient.
	Stripe *client.API
	// StripeWebhookSecret is the signing secret (whsec_…) of the Stripe
	// webhook endpoint; empty leaves POST /api/payments/webhook out (404).
	StripeWebhookSecret string
	// StripeTimeout bounds one charge or refund, retries included; zero
	// means 30 s. The lease that keeps two processes from charging one
	// order at once is four times as long.
	StripeTimeout time.Duration
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

// StripeConfig is what NewStripeClient needs.
type StripeConfig = stripegw.ClientConfig

// NewStripeClient builds a stripe-go client with backends of its own (no
// stripe-go globals) pointed at cfg.APIBase, or at Stripe when it is empty.
func NewStripeClient(cfg StripeConfig) *client.API { return stripegw.NewClient(cfg) }

// App is one payments service instance.
type App struct {
	deps   Deps
	log    *slog.Logger
	engine *gin.Engine
	svc    *payment.Service
	relay  *mongox.Relay

	bg boot.Background
}

// New checks d, ensures the indexes (the unique order index is what lets
// only one of many racing requests charge an order, so the service does not
// start without it) and builds the HTTP engine. Nothing is subscribed until
// Start.
func New(ctx context.Context, d Deps) (*App, error) {
	d, err := d.withDefaults()
	if err != nil {
		return nil, err
	}

	payments := store.NewPayments(d.DB, d.Now)
	if err := payments.EnsureIndexes(ctx); err != nil {
		return nil, fmt.Errorf("payments app: %w", err)
	}
	gw, err := stripegw.NewGateway(d.Stripe)
	if err != nil {
		return nil, fmt.Errorf("payments app: %w", err)
	}
	relay := mongox.NewRelay(payments.Collection(), events.NewPublisher(d.Events), d.Logger.With("component", "outbox"), d.Relay)
	svc, err := payment.NewService(payment.Config{
		Orders:        store.NewOrders(d.DB),
		Payments:      payments,
		Gateway:       gw,
		Notify:        relay.Notify,
		Now:           d.Now,
		Logger:        d.Logger,
		StripeTimeout: d.StripeTimeout,
		LeaseTTL:      4 * d.StripeTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("payments app: %w", err)
	}
	engine, err := httpx.NewEngine(httpx.Config{
		Service:        "payments",
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
		return nil, fmt.Errorf("payments app: %w", err)
	}
	hook, err := webhookParser(d)
	if err != nil {
		return nil, err
	}
	httpapi.Routes(engine, httpapi.NewHandlers(svc, hook))
	return &App{deps: d, log: d.Logger, engine: engine, svc: svc, relay: relay}, nil
}

// withDefaults checks that d has what the service cannot run without and
// fills in the rest.
func (d Deps) withDefaults() (Deps, error) {
	if err := boot.RequireDeps("payments app",
		boot.Dep{Name: "DB", Missing: d.DB == nil},
		boot.Dep{Name: "Events", Missing: d.Events == nil},
		boot.Dep{Name: "Sessions", Missing: d.Sessions == nil},
		boot.Dep{Name: "Stripe", Missing: d.Stripe == nil},
	); err != nil {
		return d, err
	}
	if d.StripeTimeout < 0 {
		return d, fmt.Errorf("payments app: stripe timeout %v is negative", d.StripeTimeout)
	}
	if d.StripeTimeout == 0 {
		d.StripeTimeout = payment.DefaultStripeTimeout
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}

	return d, nil
}

// webhookParser verifies Stripe's webhook deliveries with the signing
// secret; without one there is no webhook route.
func webhookParser(d Deps) (httpapi.WebhookParser, error) {
	if d.StripeWebhookSecret == "" {
		d.Logger.Info("no Stripe webhook signing secret: POST /api/payments/webhook is off; payments complete through the read-back only")
		return nil, nil
	}
	hook, err := stripegw.NewWebhook(d.StripeWebhookSecret)
	if err != nil {
		return nil, fmt.Errorf("payments app: %w", err)
	}
	return hook, nil
}

// Handler is the HTTP handler: the payments routes plus /healthz, /readyz
// and /metrics.
func (a *App) Handler() http.Handler { return a.engine }

// Start subscribes the listeners (queue group events.GroupPayments) and
// starts the outbox relay, then returns. The relay runs until Close, not
// until ctx ends, so events written by requests that finish during a
// graceful shutdown still go out.
func (a *App) Start(ctx context.Context) error {
	opts := append([]events.ListenOption{events.WithLogger(a.log)}, a.deps.ListenOptions...)
	err := a.bg.Start(ctx, func() ([]*events.Listener, error) {
		return listeners.Start(a.deps.Events, a.svc, opts...)
	}, a.relay)
	if err != nil {
		return fmt.Errorf("payments app: %w", err)
	}
	return nil
}

// Close closes the listeners (Close, keeping the durable group's position),
// then stops the relay and waits for it. Closing twice is harmless.
func (a *App) Close() error {
	if err := a.bg.Close(); err != nil {
		return fmt.Errorf("payments app: close: %w", err)
	}
	return nil
}
