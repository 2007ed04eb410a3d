package events_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/events"
)

// The bus's numbers: what was published, how each delivery ended, how far
// behind the handler ran, and whether the connection is up, which is where
// a bus outage shows now that /readyz leaves it out.
func TestMetrics(t *testing.T) {
	t.Parallel()
	forEachBus(t, func(t *testing.T, bus events.Bus) {
		srv := server(t, bus)
		conn := srv.Connect(t)
		reg := prometheus.NewRegistry()
		require.NoError(t, errors.Join(registerAll(reg, conn.Collectors())...))

		fail := make(chan struct{}, 1)
		fail <- struct{}{}
		done := make(chan struct{}, 10)
		l, err := events.Listen(conn, events.GroupOrders, func(_ context.Context, _ events.TicketCreated, _ events.Meta) error {
			select {
			case <-fail:
				return errors.New("first delivery fails")
			default:
				done <- struct{}{}
				return nil
			}
		}, events.WithAckWait(time.Second))
		require.NoError(t, err)

		require.NoError(t, events.NewPublisher(conn).PublishEvent(ctxFor(t), ticket(1)))
		select {
		case <-done:
		case <-time.After(waitFor):
			t.Fatal("the redelivery was not handled")
		}

		want := `
# HELP events_handled_total Deliveries handled by this service's listeners, by subject, queue group and outcome (done, retry, poison).
# TYPE events_handled_total counter
events_handled_total{group="orders-service",outcome="done",subject="ticket:created"} 1
events_handled_total{group="orders-service",outcome="retry",subject="ticket:created"} 1
# HELP events_published_total Events published, by subject and result (ok or error).
# TYPE events_published_total counter
events_published_total{result="ok",subject="ticket:created"} 1
`
		require.Eventually(t, func() bool {
			return testutil.GatherAndCompare(reg, strings.NewReader(want), "events_handled_total", "events_published_total") == nil
		}, waitFor, 20*time.Millisecond, "%v", testutil.GatherAndCompare(reg, strings.NewReader(want), "events_handled_total", "events_published_total"))
		assert.Equal(t, 1, testutil.CollectAndCount(reg, "events_handling_lag_seconds"), "one lag series, for the handled delivery")
		assert.Equal(t, 1.0, gauge(t, reg, "events_bus_connected"))

		// Closing a subscription needs the server, so before it goes away.
		require.NoError(t, l.Close())
		srv.Stop()
		require.Eventually(t, func() bool { return gauge(t, reg, "events_bus_connected") == 0 }, waitFor, 20*time.Millisecond)
	})
}

func registerAll(reg *prometheus.Registry, cs []prometheus.Collector) []error {
	var errs []error
	for _, c := range cs {
		errs = append(errs, reg.Register(c))
	}
	return errs
}

func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
