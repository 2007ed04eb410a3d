// Package httpx builds the gin engine every service serves: the middleware
// chain, the contract's error responses, request validation, sessions,
// health, readiness and metrics.
package httpx

import (
	"time"

	"fmt"
	"log/slog"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/session"
)

// MaxBodyBytes is the largest request body any route accepts (CONTRACT.md §1.1).
const MaxBodyBytes = 1 << 20

// Config is what NewEngine needs from the service.
type Config struct {
	Service  string           // name used in logs and metrics
	Logger   *slog.Logger     // access log and error details
	Sessions *session.Manager // when set, every request's session is read (see CurrentUser)
	Checks   []Check          // what /readyz runs
	// TrustedProxies are the addresses whose X-Forwarded-For is believed
	// (the ingress). Empty means loopback and private ranges, where an
	// ingress sits in a cluster and locally.
	TrustedProxies []string
	// Registry receives the HTTP metrics; nil makes a fresh one. /metrics serves it.
	Registry *prometheus.Registry
	// Collectors are the service's other metrics (the event bus's, say),
	// registered on Registry.
	Collectors []prometheus.Collector
	// MaxInFlight bounds the requests handled at once (health and metrics
	// aside); more wait their turn. 0 means DefaultMaxInFlight, negative
	// means no bound.
	MaxInFlight int
	// QueueTimeout is how long a request over MaxInFlight waits for a place
	// before it is answered 503 with Retry-After. 0 means
	// DefaultQueueTimeout.
	QueueTimeout time.Duration
}

// DefaultQueueTimeout keeps a burst's requests waiting rather than failing,
// while answering well inside the ingress's proxy-read-timeout
// (infra/k8s/base/ingress.yaml), so the answer is the service's, never a 504
// for a request the service may still carry out. A store slower than
// MongoDB (FerretDB on one connection, bin/local) drains a burst more
// slowly and sets a longer wait (HTTP_QUEUE_TIMEOUT).
const DefaultQueueTimeout = 30 * time.Second

// DefaultMaxInFlight is the MongoDB driver's default pool size (100
// connections): enough requests to keep that pool busy, few enough that
// the outbox relay and the event listeners, which take their turn in the
// same pool, never wait behind a burst of thousands. Requests over the bound
// queue in front of the handlers instead. A smaller pool wants a smaller
// bound (HTTP_MAX_IN_FLIGHT, see boot.Settings), or the events queue behind
// the requests for its few connections; bin/local sets 8 for its one.
const DefaultMaxInFlight = 100

// NewEngine returns a gin engine with the standard middleware and the
// /healthz, /readyz and /metrics routes; the service adds its own routes.
func NewEngine(cfg Config) (*gin.Engine, error) {
	if cfg.Logger == nil {
		return nil, fmt.Errorf("httpx: logger is required")
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if len(cfg.TrustedProxies) == 0 {
		cfg.TrustedProxies = []string{"127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"}
	}
	// gin's mode is its own process-wide switch; debug mode prints every route at start.
	gin.SetMode(gin.ReleaseMode)

	e := gin.New()
	if err := e.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("httpx: trusted proxies: %w", err)
	}
	e.HandleMethodNotAllowed = false // an unknown method is a 404, as in the contract
	e.ContextWithFallback = true     // handlers pass c as context.Context to the store

	m, err := newMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	for _, c := range cfg.Collectors {
		if err := cfg.Registry.Register(c); err != nil {
			return nil, fmt.Errorf("httpx: register metrics: %w", err)
		}
	}
	e.Use(requestID(), accessLog(cfg.Logger), m.middleware(), recoverer(cfg.Logger), limitBody(MaxBodyBytes))
	// Health and metrics are registered before the in-flight bound, which
	// gin applies only to routes added after it, so a busy service is never
	// taken for a dead one.
	health(e, cfg.Checks, cfg.Registry)
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.MaxInFlight > 0 {
		if cfg.QueueTimeout <= 0 {
			cfg.QueueTimeout = DefaultQueueTimeout
		}
		e.Use(limitInFlight(cfg.MaxInFlight, cfg.QueueTimeout))
	}
	if cfg.Sessions != nil {
		e.Use(readSession(cfg.Sessions))
	}
	e.NoRoute(func(c *gin.Context) { Fail(c, errs.ErrNotFound) })
	return e, nil
}
