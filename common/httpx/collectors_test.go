package httpx_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/httpx"
)

// A service's own metrics (the event bus's) are served by /metrics beside
// the HTTP ones; registering one twice is refused, not silently dropped.
func TestCollectors(t *testing.T) {
	gauge := prometheus.NewGauge(prometheus.GaugeOpts{Name: "test_things", Help: "Things."})
	gauge.Set(3)
	e, err := httpx.NewEngine(httpx.Config{Service: "test", Logger: slog.New(slog.DiscardHandler), Collectors: []prometheus.Collector{gauge}})
	require.NoError(t, err)
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, w.Code)
	body, _ := io.ReadAll(w.Body)
	assert.Contains(t, string(body), "test_things 3")

	_, err = httpx.NewEngine(httpx.Config{Service: "test", Logger: slog.New(slog.DiscardHandler), Collectors: []prometheus.Collector{gauge, gauge}})
	assert.ErrorContains(t, err, "register metrics")
}
