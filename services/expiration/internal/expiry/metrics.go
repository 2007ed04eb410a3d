package expiry

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts what the timers do. A nil *Metrics records nothing.
type Metrics struct {
	timers *prometheus.CounterVec
	delay  prometheus.Histogram
}

// NewMetrics registers the timer metrics on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		timers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "expiration_timers_total",
			Help: "Hold timers by outcome: scheduled, duplicate (already scheduled), cancelled, fired.",
		}, []string{"outcome"}),
		// How late after expiresAt the event went out: the promise is 200 ms,
		// so this is the number to watch.
		delay: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "expiration_publish_delay_seconds",
			Help:    "Time from an order's expiresAt to its expiration:complete being published.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 300},
		}),
	}
	for _, c := range []prometheus.Collector{m.timers, m.delay} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("expiry: register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *Metrics) inc(outcome string) {
	if m != nil {
		m.timers.WithLabelValues(outcome).Inc()
	}
}

func (m *Metrics) scheduled() { m.inc("scheduled") }
func (m *Metrics) duplicate() { m.inc("duplicate") }
func (m *Metrics) cancelled() { m.inc("cancelled") }

func (m *Metrics) fired(late time.Duration) {
	if m != nil {
		m.inc("fired")
		m.delay.Observe(late.Seconds())
	}
}
