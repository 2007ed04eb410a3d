package stats

import (
	"slices"
	"time"
)

// Outage is what the people using the fleet met in a stretch of time, such
// as the seconds after one part was killed.
type Outage struct {
	Requests   int `json:"requests"`
	ServerErrs int `json:"serverErrors"` // 5xx or no answer at all
	// LongestGap is the longest time in the stretch without one successful
	// answer: from its start to the first, between two, or from the last
	// to its end.
	LongestGap time.Duration `json:"longestGap"`
}

// Outage sums up the requests sent in [from, to).
func (r *Recorder) Outage(from, to time.Time) Outage {
	lo, hi := from.Sub(r.start), to.Sub(r.start)
	r.mu.Lock()
	var out Outage
	var answered []time.Duration // when each successful answer came
	for _, q := range r.requests {
		if q.at < lo || q.at >= hi {
			continue
		}
		out.Requests++
		if q.status == StatusTransport || q.status >= 500 {
			out.ServerErrs++
			continue
		}
		answered = append(answered, min(q.at+q.latency, hi))
	}
	r.mu.Unlock()
	slices.Sort(answered)
	last := lo
	for _, at := range answered {
		out.LongestGap = max(out.LongestGap, at-last)
		last = at
	}
	out.LongestGap = max(out.LongestGap, hi-last)
	return out
}
