// Package stats records what a load run observed (each request's endpoint,
// status and latency, and event lags) and summarises it: counts, statuses,
// throughput, percentiles, and a per-interval timeline for the chart.
package stats

import (
	"encoding/json"
	"math"
	"slices"
	"time"
)

// Percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest value with at least p% of the values at
// or below it. It never interpolates, so every figure reported is a latency
// that was really measured. An empty input gives 0.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if p <= 0 {
		return sorted[0]
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// Summary is the distribution of a set of durations.
type Summary struct {
	Count int           `json:"count"`
	Min   time.Duration `json:"min"`
	P50   time.Duration `json:"p50"`
	P95   time.Duration `json:"p95"`
	P99   time.Duration `json:"p99"`
	Max   time.Duration `json:"max"`
	Mean  time.Duration `json:"mean"`
}

// Summarize sorts ds in place and describes it.
func Summarize(ds []time.Duration) Summary {
	if len(ds) == 0 {
		return Summary{}
	}
	slices.Sort(ds)
	var total time.Duration
	for _, d := range ds {
		total += d
	}
	return Summary{
		Count: len(ds),
		Min:   ds[0],
		P50:   Percentile(ds, 50),
		P95:   Percentile(ds, 95),
		P99:   Percentile(ds, 99),
		Max:   ds[len(ds)-1],
		Mean:  total / time.Duration(len(ds)),
	}
}

// MarshalJSON writes the durations as milliseconds, which is what a reader
// of the JSON report compares, instead of Go's nanosecond integers.
func (s Summary) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Count  int     `json:"count"`
		MinMS  float64 `json:"minMs"`
		P50MS  float64 `json:"p50Ms"`
		P95MS  float64 `json:"p95Ms"`
		P99MS  float64 `json:"p99Ms"`
		MaxMS  float64 `json:"maxMs"`
		MeanMS float64 `json:"meanMs"`
	}{s.Count, Millis(s.Min), Millis(s.P50), Millis(s.P95), Millis(s.P99), Millis(s.Max), Millis(s.Mean)})
}

// Millis is d in milliseconds, rounded to microseconds.
func Millis(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}
