// Package stripegw is the payments service's way to Stripe: it builds the
// stripe-go client from configuration (no stripe-go globals) and adapts it
// to payment.Gateway, sorting Stripe's answers into "refused" and "unknown".
package stripegw

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
)

// ClientConfig is what NewClient needs.
type ClientConfig struct {
	Key string
	// APIBase replaces https://api.stripe.com, e.g. stripe-mock's address
	// locally; empty means Stripe itself.
	APIBase string
	// HTTPTimeout bounds one HTTP request to Stripe; zero means 30 s.
	HTTPTimeout time.Duration
	Logger      *slog.Logger // nil = discard
}

// NewClient builds a client.API whose backends are its own, so nothing in
// the process shares stripe-go's package-level key or backends.
func NewClient(cfg ClientConfig) *client.API {
	if cfg.HTTPTimeout <= 0 {
		cfg.HTTPTimeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	httpClient := &http.Client{Timeout: cfg.HTTPTimeout}
	logger := leveledLogger{cfg.Logger.With("component", "stripe")}
	backend := func(kind stripe.SupportedBackend) stripe.Backend {
		bc := &stripe.BackendConfig{
			HTTPClient:        httpClient,
			LeveledLogger:     logger,
			MaxNetworkRetries: stripe.Int64(stripe.DefaultMaxNetworkRetries),
			EnableTelemetry:   stripe.Bool(false),
		}
		if cfg.APIBase != "" {
			bc.URL = stripe.String(cfg.APIBase)
		}
		return stripe.GetBackendWithConfig(kind, bc)
	}
	return client.New(cfg.Key, &stripe.Backends{
		API:     backend(stripe.APIBackend),
		Connect: backend(stripe.ConnectBackend),
		Uploads: backend(stripe.UploadsBackend),
	})
}

// leveledLogger sends stripe-go's log lines to slog. Its errors are Stripe's
// answers (a decline among them), which the service logs in its own words,
// so they are warnings here.
type leveledLogger struct{ log *slog.Logger }

// Debugf lines carry whole response bodies; they are dropped.
func (l leveledLogger) Debugf(string, ...any)          {}
func (l leveledLogger) Infof(format string, v ...any)  { l.logf(slog.LevelDebug, format, v...) }
func (l leveledLogger) Warnf(format string, v ...any)  { l.logf(slog.LevelWarn, format, v...) }
func (l leveledLogger) Errorf(format string, v ...any) { l.logf(slog.LevelWarn, format, v...) }

func (l leveledLogger) logf(level slog.Level, format string, v ...any) {
	if l.log.Enabled(context.Background(), level) {
		l.log.Log(context.Background(), level, fmt.Sprintf(format, v...))
	}
}
