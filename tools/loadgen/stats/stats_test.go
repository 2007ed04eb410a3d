package stats_test

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/tools/loadgen/stats"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = ms(i + 1)
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value", []time.Duration{ms(7)}, 99, ms(7)},
		{"median of odd count", []time.Duration{ms(1), ms(2), ms(3)}, 50, ms(2)},
		// Nearest rank: the 50th percentile of 4 values is the 2nd, never a
		// mean of two measured values.
		{"median of even count", []time.Duration{ms(1), ms(2), ms(3), ms(4)}, 50, ms(2)},
		{"p95 of 1..100", hundred, 95, ms(95)},
		{"p99 of 1..100", hundred, 99, ms(99)},
		{"p100 is the max", hundred, 100, ms(100)},
		{"p0 is the min", hundred, 0, ms(1)},
		{"p99.9 of 1..100 rounds up", hundred, 99.9, ms(100)},
		{"p1 of 1..100", hundred, 1, ms(1)},
		{"above 100 clamps", hundred, 150, ms(100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, stats.Percentile(tt.sorted, tt.p))
		})
	}
}

func TestSummarize(t *testing.T) {
	ds := []time.Duration{ms(30), ms(10), ms(20), ms(40)}
	s := stats.Summarize(ds)
	assert.Equal(t, stats.Summary{Count: 4, Min: ms(10), P50: ms(20), P95: ms(40), P99: ms(40), Max: ms(40), Mean: ms(25)}, s)
	assert.Equal(t, stats.Summary{}, stats.Summarize(nil))

	b, err := json.Marshal(s)
	require.NoError(t, err)
	assert.JSONEq(t, `{"count":4,"minMs":10,"p50Ms":20,"p95Ms":40,"p99Ms":40,"maxMs":40,"meanMs":25}`, string(b))
}

// fakeClock advances only when told, so the figures are exact.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestRecorderPhases(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	r := stats.NewRecorder(clock.now)

	r.BeginPhase("browse")
	for i := range 10 {
		r.Request("GET /api/tickets", 200, clock.now(), ms(i+1), true)
	}
	r.Request("GET /api/tickets/:id", 404, clock.now(), ms(5), true)
	r.Request("GET /api/tickets/:id", 500, clock.now(), ms(50), false)
	r.Request("GET /api/tickets/:id", stats.StatusTransport, clock.now(), ms(900), false)
	r.Lag("ticket created → orderable", ms(12))
	r.Add("tickets", 3)
	clock.advance(2 * time.Second)
	r.EndPhase()
	clock.advance(10 * time.Second) // waiting between phases is not the phase's time

	r.BeginPhase("edits")
	r.Request("PUT /api/tickets/:id", 200, clock.now(), ms(3), true)
	clock.advance(time.Second)
	// A hold started in browse, seen to lapse now: its lag belongs to browse.
	r.LagIn(0, "expiresAt → order cancelled", ms(900))

	phases := r.Phases()
	require.Len(t, phases, 2)

	browse := phases[0]
	assert.Equal(t, "browse", browse.Name)
	assert.InDelta(t, 2.0, browse.Seconds, 1e-9)
	assert.Equal(t, 13, browse.Requests)
	assert.Equal(t, 2, browse.Unexpected)
	assert.Equal(t, 2, browse.ServerErrs)
	assert.InDelta(t, 6.5, browse.Throughput, 1e-9)
	assert.Equal(t, map[string]int{"tickets": 3}, browse.Counters)
	require.Len(t, browse.Endpoints, 2)

	list := browse.Endpoints[0]
	assert.Equal(t, "GET /api/tickets", list.Endpoint, "endpoints are sorted by path")
	assert.Equal(t, 10, list.Requests)
	assert.Equal(t, map[string]int{"200": 10}, list.Statuses)
	assert.Empty(t, list.UnexpectedStatuses)
	assert.Equal(t, ms(5), list.Latency.P50)
	assert.Equal(t, ms(10), list.Latency.P99)
	assert.InDelta(t, 5.0, list.Throughput, 1e-9)

	one := browse.Endpoints[1]
	assert.Equal(t, map[string]int{"404": 1, "500": 1, "transport": 1}, one.Statuses)
	assert.Equal(t, map[string]int{"500": 1, "transport": 1}, one.UnexpectedStatuses)
	assert.Equal(t, 2, one.Latency.Count, "a request without an answer has no latency")
	assert.Equal(t, ms(50), one.Latency.Max)

	assert.Zero(t, browse.StartSeconds)
	require.Len(t, browse.Lags, 2)
	assert.Equal(t, "expiresAt → order cancelled", browse.Lags[0].Name)
	assert.Equal(t, ms(900), browse.Lags[0].Lag.Max)
	assert.Equal(t, "ticket created → orderable", browse.Lags[1].Name)
	assert.Equal(t, ms(12), browse.Lags[1].Lag.P50)

	edits := phases[1]
	assert.Equal(t, "edits", edits.Name)
	assert.InDelta(t, 12.0, edits.StartSeconds, 1e-9)
	assert.Equal(t, 1, edits.Requests)
	assert.InDelta(t, 1.0, edits.Seconds, 1e-9, "a running phase lasts until now")
	assert.Empty(t, edits.Lags)
}

func TestRecorderTimeline(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	r := stats.NewRecorder(clock.now)
	assert.Nil(t, r.Timeline(time.Second), "no requests, no timeline")

	r.BeginPhase("a")
	r.Request("GET /x", 200, clock.now(), ms(10), true)
	r.Request("GET /x", 200, clock.now().Add(500*time.Millisecond), ms(30), true)
	clock.advance(2 * time.Second) // second 1 stays empty: a stall must show
	r.BeginPhase("b")
	r.Request("GET /x", 503, clock.now(), ms(20), false)
	r.Request("GET /x", stats.StatusTransport, clock.now(), time.Second, false)

	pts := r.Timeline(time.Second)
	require.Len(t, pts, 3)
	assert.Equal(t, stats.Point{Seconds: 0, Phase: "a", Requests: 2, Throughput: 2, P50MS: 10, P95MS: 30, P99MS: 30, MaxMS: 30}, pts[0])
	assert.Equal(t, stats.Point{Seconds: 1, Phase: "a"}, pts[1])
	assert.Equal(t, stats.Point{Seconds: 2, Phase: "b", Requests: 2, Throughput: 2, P50MS: 20, P95MS: 20, P99MS: 20, MaxMS: 20, ServerErrs: 2}, pts[2])

	half := r.Timeline(500 * time.Millisecond)
	require.Len(t, half, 5)
	assert.InDelta(t, 2.0, half[0].Throughput, 1e-9, "one request in half a second is 2 per second")
}

// The recorder is written by every load worker at once; run with -race.
func TestRecorderConcurrent(t *testing.T) {
	r := stats.NewRecorder(nil)
	r.BeginPhase("p")
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 500 {
				r.Request("GET /api/tickets", 200, time.Now(), ms(i%7), true)
				r.Lag("lag", ms(w))
				r.Add("n", 1)
			}
		})
	}
	wg.Wait()
	p := r.Phases()
	require.Len(t, p, 1)
	assert.Equal(t, 4000, p[0].Requests)
	assert.Equal(t, 4000, p[0].Counters["n"])
	assert.Equal(t, 4000, p[0].Lags[0].Lag.Count)
}

func TestRecorderOutage(t *testing.T) {
	clock := &fakeClock{t: time.Unix(0, 0)}
	r := stats.NewRecorder(clock.now)
	at := func(ms int) time.Time { return time.Unix(0, 0).Add(time.Duration(ms) * time.Millisecond) }
	tests := []struct {
		sent, latency, status int
	}{
		{100, 10, 200},                   // before the stretch
		{1000, 50, 200},                  // answered at 1050
		{1100, 10, 502},                  // a copy gone
		{1200, 0, stats.StatusTransport}, // no answer
		{1300, 700, 201},                 // answered at 2000: the gap is 1050 → 2000
		{2100, 10, 404},                  // a 404 is an answer
		{3000, 10, 200},                  // after the stretch
	}
	for _, tt := range tests {
		r.Request("GET /x", tt.status, at(tt.sent), time.Duration(tt.latency)*time.Millisecond, true)
	}
	got := r.Outage(at(1000), at(2500))
	assert.Equal(t, stats.Outage{Requests: 5, ServerErrs: 2, LongestGap: 950 * time.Millisecond}, got)

	quiet := r.Outage(at(1000), at(1001))
	assert.Equal(t, 1, quiet.Requests)
	assert.Equal(t, time.Millisecond, quiet.LongestGap, "an answer after the stretch ends counts at its end")

	none := r.Outage(at(5000), at(6000))
	assert.Equal(t, stats.Outage{LongestGap: time.Second}, none, "no answer in the whole stretch")
}
