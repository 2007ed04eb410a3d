// Package report turns what a load run recorded into its outputs: a table
// for a terminal, Markdown for the benchmark report, JSON for machines, and
// an SVG chart of latency percentiles and throughput over time.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ticketing/tools/loadgen/chart"
	"github.com/ticketing/tools/loadgen/check"
	"github.com/ticketing/tools/loadgen/stats"
)

// Report is one run.
type Report struct {
	Started  time.Time          `json:"started"`
	Seconds  float64            `json:"seconds"`
	Target   map[string]string  `json:"target"`
	Settings map[string]string  `json:"settings"`
	Phases   []stats.PhaseStats `json:"phases"`
	Checks   []check.Result     `json:"checks"`
	// SettleSeconds is how long the checks waited for the state to
	// converge after the load (and for the holds left behind to lapse);
	// Settled says whether it did within the limit.
	SettleSeconds float64 `json:"settleSeconds"`
	Settled       bool    `json:"settled"`
	// FailedFlows counts flows that could not finish; FailureExamples says
	// why for the first few.
	FailedFlows     int           `json:"failedFlows"`
	FailureExamples []string      `json:"failureExamples,omitempty"`
	Timeline        []stats.Point `json:"timeline"`
	Passed          bool          `json:"passed"`
}

// Decide sets Passed: every check that ran passed.
func (r *Report) Decide() {
	r.Passed = true
	for _, c := range r.Checks {
		if c.Failed() {
			r.Passed = false
		}
	}
}

// WriteJSON writes the report as indented JSON.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(stats.Millis(d), 'f', 1, 64)
}

func statuses(m map[string]int) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func counters(m map[string]int) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// empty reports whether a phase recorded nothing worth a table (a settle
// phase whose waiting needed no request).
func empty(p stats.PhaseStats) bool {
	return p.Requests == 0 && len(p.Lags) == 0 && len(p.Counters) == 0
}

func settled(ok bool) string {
	if ok {
		return "settled"
	}
	return "had not settled"
}

func verdict(c check.Result) string {
	return strings.ToUpper(c.Status)
}

// WriteTable writes the report for a terminal.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, p := range r.Phases {
		if empty(p) {
			continue
		}
		fmt.Fprintf(tw, "\n== %s: %.1f s, %d requests, %.1f req/s, %d unexpected, %d server errors ==\n",
			p.Name, p.Seconds, p.Requests, p.Throughput, p.Unexpected, p.ServerErrs)
		fmt.Fprintln(tw, "endpoint\trequests\treq/s\tp50 ms\tp95 ms\tp99 ms\tmax ms\tstatuses\tunexpected\t")
		for _, e := range p.Endpoints {
			fmt.Fprintf(tw, "%s\t%d\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\t\n", e.Endpoint, e.Requests, e.Throughput,
				ms(e.Latency.P50), ms(e.Latency.P95), ms(e.Latency.P99), ms(e.Latency.Max), statuses(e.Statuses), statuses(e.UnexpectedStatuses))
		}
		fmt.Fprintf(tw, "all\t%d\t%.1f\t%s\t%s\t%s\t%s\t\t\t\n", p.Requests, p.Throughput,
			ms(p.Latency.P50), ms(p.Latency.P95), ms(p.Latency.P99), ms(p.Latency.Max))
		if len(p.Lags) > 0 {
			fmt.Fprintln(tw, "\nevent lag\tcount\t\tp50 ms\tp95 ms\tp99 ms\tmax ms\t\t\t")
			for _, l := range p.Lags {
				fmt.Fprintf(tw, "%s\t%d\t\t%s\t%s\t%s\t%s\t\t\t\n", l.Name, l.Lag.Count, ms(l.Lag.P50), ms(l.Lag.P95), ms(l.Lag.P99), ms(l.Lag.Max))
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if len(p.Counters) > 0 {
			fmt.Fprintf(w, "counts: %s\n", counters(p.Counters))
		}
	}
	if r.FailedFlows > 0 {
		fmt.Fprintf(w, "\n%d flows could not finish, e.g.:\n", r.FailedFlows)
		for _, f := range r.FailureExamples {
			fmt.Fprintf(w, "  - %s\n", f)
		}
	}
	if len(r.Checks) > 0 {
		fmt.Fprintf(w, "\nchecks (%s after %.1f s)\n", settled(r.Settled), r.SettleSeconds)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, c := range r.Checks {
			fmt.Fprintf(tw, "  %s\t%s\t%d of %d\t%s\n", verdict(c), c.Name, c.Failures, c.Judged, c.Detail)
			for _, e := range c.Examples {
				fmt.Fprintf(tw, "  \t  - %s\t\t\n", e)
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	result := "PASSED"
	if !r.Passed {
		result = "FAILED"
	}
	_, err := fmt.Fprintf(w, "\nloadgen: %s in %.1f s\n", result, r.Seconds)
	return err
}

// mdEscape keeps a value from breaking a Markdown table cell.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// WriteMarkdown writes the phases and checks as Markdown tables, for the
// benchmark report.
func (r Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	for _, p := range r.Phases {
		if empty(p) {
			continue
		}
		fmt.Fprintf(&b, "\n### %s\n\n%.1f s, %d requests, %.1f requests/s, %d unexpected answers, %d server errors.",
			p.Name, p.Seconds, p.Requests, p.Throughput, p.Unexpected, p.ServerErrs)
		if len(p.Counters) > 0 {
			fmt.Fprintf(&b, " Counts: %s.", counters(p.Counters))
		}
		b.WriteString("\n\n| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | statuses | unexpected |\n")
		b.WriteString("|---|--:|--:|--:|--:|--:|--:|---|---|\n")
		for _, e := range p.Endpoints {
			fmt.Fprintf(&b, "| `%s` | %d | %.1f | %s | %s | %s | %s | %s | %s |\n", e.Endpoint, e.Requests, e.Throughput,
				ms(e.Latency.P50), ms(e.Latency.P95), ms(e.Latency.P99), ms(e.Latency.Max),
				mdEscape(statuses(e.Statuses)), mdEscape(statuses(e.UnexpectedStatuses)))
		}
		fmt.Fprintf(&b, "| **all** | %d | %.1f | %s | %s | %s | %s | | |\n", p.Requests, p.Throughput,
			ms(p.Latency.P50), ms(p.Latency.P95), ms(p.Latency.P99), ms(p.Latency.Max))
		if len(p.Lags) > 0 {
			b.WriteString("\n| event lag | count | p50 ms | p95 ms | p99 ms | max ms |\n|---|--:|--:|--:|--:|--:|\n")
			for _, l := range p.Lags {
				fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s |\n", mdEscape(l.Name), l.Lag.Count, ms(l.Lag.P50), ms(l.Lag.P95), ms(l.Lag.P99), ms(l.Lag.Max))
			}
		}
	}
	if r.FailedFlows > 0 {
		fmt.Fprintf(&b, "\n%d flows could not finish, e.g.:\n\n", r.FailedFlows)
		for _, f := range r.FailureExamples {
			fmt.Fprintf(&b, "- %s\n", mdEscape(f))
		}
	}
	if len(r.Checks) > 0 {
		fmt.Fprintf(&b, "\n### Checks\n\nThe state %s %.1f s after the load ended.\n\n| verdict | check | failing | judged | note |\n|---|---|--:|--:|---|\n", settled(r.Settled), r.SettleSeconds)
		for _, c := range r.Checks {
			note := c.Detail
			if len(c.Examples) > 0 {
				note = strings.TrimSpace(note + " e.g. " + c.Examples[0])
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %d | %s |\n", verdict(c), mdEscape(c.Name), c.Failures, c.Judged, mdEscape(note))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Figure is the chart of the run: latency percentiles above, throughput
// (and server errors) below, a mark where each phase begins.
func (r Report) Figure(title string) chart.Figure {
	f := chart.Figure{Title: title, XLabel: "seconds since start"}
	var p50, p95, p99, rps, errs []float64
	// An interval without requests has no latency: a gap, not a zero.
	orGap := func(v float64, n int) float64 {
		if n == 0 {
			return math.NaN()
		}
		return v
	}
	for _, pt := range r.Timeline {
		f.X = append(f.X, pt.Seconds)
		p50 = append(p50, orGap(pt.P50MS, pt.Requests))
		p95 = append(p95, orGap(pt.P95MS, pt.Requests))
		p99 = append(p99, orGap(pt.P99MS, pt.Requests))
		rps = append(rps, pt.Throughput)
		errs = append(errs, float64(pt.ServerErrs))
	}
	for _, p := range r.Phases {
		f.Marks = append(f.Marks, chart.Mark{X: p.StartSeconds, Label: p.Name})
	}
	f.Panels = []chart.Panel{
		{Title: "Latency percentiles per second", Unit: "ms", Series: []chart.Series{
			{Name: "p50", Color: "#1f77b4", Y: p50},
			{Name: "p95", Color: "#ff7f0e", Y: p95},
			{Name: "p99", Color: "#d62728", Y: p99},
		}},
		{Title: "Throughput", Unit: "requests/s", Series: []chart.Series{
			{Name: "requests/s", Color: "#2ca02c", Y: rps},
			{Name: "server errors", Color: "#d62728", Y: errs},
		}},
	}
	return f
}
