package events

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of one delivery, as events_handled_total counts them.
const (
	outcomeDone   = "done"   // handled and acked
	outcomeRetry  = "retry"  // left unacked for redelivery (error or panic)
	outcomePoison = "poison" // can never be processed; acked and logged
)

// metrics are one connection's event numbers. The bus's health lives here
// and in the log, not in /readyz (CONTRACT.md §2): the outbox keeps writes
// going while the bus is away, so a bus outage is no reason to stop serving.
type metrics struct {
	connected prometheus.GaugeFunc
	published *prometheus.CounterVec
	handled   *prometheus.CounterVec
	lag       *prometheus.HistogramVec
}

func newMetrics(c *Conn) *metrics {
	return &metrics{
		connected: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "events_bus_connected",
			Help: "1 while the connection to the event bus is up, 0 while it is being re-established.",
		}, func() float64 {
			if c.Connected() {
				return 1
			}
			return 0
		}),
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "events_published_total",
			Help: "Events published, by subject and result (ok or error).",
		}, []string{"subject", "result"}),
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "events_handled_total",
			Help: "Deliveries handled by this service's listeners, by subject, queue group and outcome (done, retry, poison).",
		}, []string{"subject", "group", "outcome"}),
		lag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "events_handling_lag_seconds",
			Help:    "From the bus storing an event to this service finishing with it: how far the replicas trail the writes.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"subject", "group"}),
	}
}

// Collectors are the connection's metrics, for the service's registry
// (httpx.Config.Collectors).
func (c *Conn) Collectors() []prometheus.Collector {
	return []prometheus.Collector{c.metrics.connected, c.metrics.published, c.metrics.handled, c.metrics.lag}
}

func (m *metrics) recordPublish(subject string, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.published.WithLabelValues(subject, result).Inc()
}

func (m *metrics) recordHandled(subject Subject, group, outcome string, stored time.Time) {
	m.handled.WithLabelValues(string(subject), group, outcome).Inc()
	if outcome == outcomeDone && !stored.IsZero() {
		m.lag.WithLabelValues(string(subject), group).Observe(time.Since(stored).Seconds())
	}
}
