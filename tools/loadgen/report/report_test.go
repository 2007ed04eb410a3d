package report_test

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/tools/loadgen/chart"
	"github.com/ticketing/tools/loadgen/check"
	"github.com/ticketing/tools/loadgen/report"
	"github.com/ticketing/tools/loadgen/stats"
)

func sample() report.Report {
	r := report.Report{
		Started: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		Seconds: 12.5,
		Phases: []stats.PhaseStats{{
			Name: "purchase", Seconds: 10, Requests: 3, Unexpected: 1, ServerErrs: 1, Throughput: 0.3,
			Latency: stats.Summary{Count: 3, P50: 2 * time.Millisecond, P95: 9 * time.Millisecond, P99: 9 * time.Millisecond, Max: 9 * time.Millisecond},
			Endpoints: []stats.EndpointStats{{
				Endpoint: "POST /api/orders", Requests: 3, Unexpected: 1,
				Statuses: map[string]int{"201": 1, "404": 1, "500": 1}, UnexpectedStatuses: map[string]int{"500": 1},
				Throughput: 0.3, Latency: stats.Summary{Count: 3, P50: 2 * time.Millisecond, Max: 9 * time.Millisecond},
			}},
			Lags:     []stats.LagStats{{Name: "payment → order complete", Lag: stats.Summary{Count: 1, P50: 40 * time.Millisecond}}},
			Counters: map[string]int{"payments": 1},
		}, {Name: "edits", StartSeconds: 1.5, Seconds: 1, Requests: 1}, {Name: "settle", StartSeconds: 3, Seconds: 30}},
		Checks: []check.Result{
			{Name: "double reservations", Status: check.StatusPass, Judged: 5},
			{Name: "replica | mismatches", Status: check.StatusFail, Failures: 1, Judged: 5, Examples: []string{"ticket x differs"}},
		},
		Timeline: []stats.Point{
			{Seconds: 0, Phase: "purchase", Requests: 2, Throughput: 2, P50MS: 2, P95MS: 9, P99MS: 9},
			{Seconds: 1, Phase: "purchase"},
			{Seconds: 2, Phase: "edits", Requests: 1, Throughput: 1, P50MS: 3, P95MS: 3, P99MS: 3, ServerErrs: 1},
		},
	}
	r.Decide()
	return r
}

func TestDecide(t *testing.T) {
	r := sample()
	assert.False(t, r.Passed, "one failed check fails the run")
	r.Checks[1].Status = check.StatusSkipped
	r.Decide()
	assert.True(t, r.Passed, "a skipped check does not")
}

func TestWriteTable(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, sample().WriteTable(&buf))
	out := buf.String()
	for _, want := range []string{
		"== purchase: 10.0 s, 3 requests",
		"POST /api/orders", "201×1 404×1 500×1", "payment → order complete", "40.0",
		"counts: payments 1", "FAIL  replica | mismatches", "ticket x differs", "loadgen: FAILED",
	} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "== settle", "a phase without requests gets no table")
}

func TestWriteMarkdown(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, sample().WriteMarkdown(&buf))
	out := buf.String()
	assert.Contains(t, out, "### purchase")
	assert.NotContains(t, out, "### settle", "a phase without requests gets no table")
	assert.Contains(t, out, "| `POST /api/orders` | 3 | 0.3 | 2.0 |")
	assert.Contains(t, out, `replica \| mismatches`, "a | in a cell is escaped")
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "| FAIL") || strings.HasPrefix(line, "| PASS") {
			cells := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|")
			assert.Equal(t, 6, cells, "a checks row has 5 cells: %s", line)
		}
	}
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, sample().WriteJSON(&buf))
	var back map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &back))
	assert.Equal(t, false, back["passed"])
	phase := back["phases"].([]any)[0].(map[string]any)
	assert.Equal(t, 9.0, phase["latency"].(map[string]any)["p95Ms"], "latencies are milliseconds in JSON")
}

func TestFigure(t *testing.T) {
	f := sample().Figure("t")
	require.Len(t, f.Panels, 2)
	assert.Equal(t, []float64{0, 1, 2}, f.X)
	p50 := f.Panels[0].Series[0].Y
	assert.Equal(t, 2.0, p50[0])
	assert.True(t, math.IsNaN(p50[1]), "an interval without requests is a gap")
	assert.Equal(t, []float64{0, 0, 1}, f.Panels[1].Series[1].Y, "server errors per interval")
	require.Len(t, f.Marks, 3, "a mark where each phase begins")
	assert.Equal(t, chart.Mark{X: 0, Label: "purchase"}, f.Marks[0])
	assert.Equal(t, chart.Mark{X: 1.5, Label: "edits"}, f.Marks[1], "at the phase's own start, not the next whole second")
}
