package stats

import (
	"slices"
	"strconv"
	"sync"
	"time"
)

// StatusTransport is the status recorded for a request that got no HTTP
// answer at all (connection refused or reset, timeout).
const StatusTransport = 0

// Recorder collects samples from many goroutines. A run is split into
// phases (one per scenario); every sample belongs to the phase current when
// it was recorded.
type Recorder struct {
	now   func() time.Time
	start time.Time

	mu       sync.Mutex
	phases   []phase
	names    []string // endpoint and lag names, indexed by sample.name
	nameIdx  map[string]int
	requests []request
	lags     []lag
}

type phase struct {
	name       string
	start, end time.Duration // end is 0 while the phase runs
	counters   map[string]int
}

type request struct {
	at      time.Duration // when the request was sent, since the recorder's start
	latency time.Duration
	name    int32
	phase   int16
	status  int16
	ok      bool
}

type lag struct {
	d     time.Duration
	name  int32
	phase int16
}

// NewRecorder starts a recorder; now is the clock (nil: time.Now). Until
// BeginPhase is called, samples go to a phase named "run".
func NewRecorder(now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	r := &Recorder{now: now, nameIdx: map[string]int{}}
	r.start = now()
	r.phases = []phase{{name: "run", counters: map[string]int{}}}
	return r
}

// Start is when the recorder started; timeline offsets count from it.
func (r *Recorder) Start() time.Time { return r.start }

// BeginPhase ends the current phase and starts one called name.
func (r *Recorder) BeginPhase(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	at := r.now().Sub(r.start)
	cur := &r.phases[len(r.phases)-1]
	if len(r.phases) == 1 && cur.name == "run" && len(r.requests) == 0 && len(r.lags) == 0 && len(cur.counters) == 0 {
		// Nothing was recorded before the first real phase: replace the
		// placeholder rather than report an empty phase.
		*cur = phase{name: name, start: at, counters: map[string]int{}}
		return
	}
	if cur.end == 0 {
		cur.end = at
	}
	r.phases = append(r.phases, phase{name: name, start: at, counters: map[string]int{}})
}

// EndPhase marks the end of the current phase, so that waiting (for checks,
// for holds to lapse) does not dilute its throughput.
func (r *Recorder) EndPhase() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur := &r.phases[len(r.phases)-1]; cur.end == 0 {
		cur.end = r.now().Sub(r.start)
	}
}

func (r *Recorder) nameLocked(name string) int32 {
	i, ok := r.nameIdx[name]
	if !ok {
		i = len(r.names)
		r.names = append(r.names, name)
		r.nameIdx[name] = i
	}
	return int32(i)
}

// Request records one HTTP request to endpoint (e.g. "POST /api/orders")
// sent at sent, answered with status (StatusTransport if it got no answer)
// after latency. ok says whether the scenario expected that status; a 404
// while an event is on its way is expected, a 500 never is.
func (r *Recorder) Request(endpoint string, status int, sent time.Time, latency time.Duration, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, request{
		at:      sent.Sub(r.start),
		latency: latency,
		name:    r.nameLocked(endpoint),
		phase:   int16(len(r.phases) - 1),
		status:  int16(status),
		ok:      ok,
	})
}

// Lag records how long an event took to have its effect in another service
// (e.g. "payment → complete"), in the current phase.
func (r *Recorder) Lag(name string, d time.Duration) {
	r.LagIn(r.Phase(), name, d)
}

// Phase identifies the current phase, for LagIn.
func (r *Recorder) Phase() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.phases) - 1
}

// LagIn records a lag in the phase that started the flow it belongs to (a
// hold is seen to lapse long after the scenario that made it has ended).
func (r *Recorder) LagIn(phase int, name string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	phase = min(max(phase, 0), len(r.phases)-1)
	r.lags = append(r.lags, lag{d: d, name: r.nameLocked(name), phase: int16(phase)})
}

// Add adds n to the current phase's counter name (tickets created, holds
// left to lapse, races won...).
func (r *Recorder) Add(name string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.phases[len(r.phases)-1].counters[name] += n
}

// EndpointStats describes the requests to one endpoint.
type EndpointStats struct {
	Endpoint string `json:"endpoint"`
	Requests int    `json:"requests"`
	// Unexpected counts the answers the scenario did not expect, including
	// transport errors.
	Unexpected int `json:"unexpected"`
	// Statuses counts every answer by status code ("transport" for none).
	Statuses map[string]int `json:"statuses"`
	// UnexpectedStatuses is the part of Statuses that was unexpected.
	UnexpectedStatuses map[string]int `json:"unexpectedStatuses,omitempty"`
	Throughput         float64        `json:"throughputPerSec"`
	Latency            Summary        `json:"latency"`
}

// LagStats describes one kind of event lag.
type LagStats struct {
	Name string  `json:"name"`
	Lag  Summary `json:"lag"`
}

// PhaseStats is everything recorded in one phase.
type PhaseStats struct {
	Name string `json:"name"`
	// StartSeconds is when the phase began, since the recorder's start.
	StartSeconds float64         `json:"startSeconds"`
	Seconds      float64         `json:"seconds"`
	Requests     int             `json:"requests"`
	Unexpected   int             `json:"unexpected"`
	ServerErrs   int             `json:"serverErrors"` // 5xx and transport errors
	Throughput   float64         `json:"throughputPerSec"`
	Latency      Summary         `json:"latency"`
	Endpoints    []EndpointStats `json:"endpoints"`
	Lags         []LagStats      `json:"lags,omitempty"`
	Counters     map[string]int  `json:"counters,omitempty"`
}

// StatusLabel is how a status appears in reports.
func StatusLabel(status int) string {
	if status == StatusTransport {
		return "transport"
	}
	return strconv.Itoa(status)
}

// Phases summarises every phase, in order.
func (r *Recorder) Phases() []PhaseStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now().Sub(r.start)
	out := make([]PhaseStats, len(r.phases))
	type acc struct {
		st   EndpointStats
		lats []time.Duration
	}
	perPhase := make([]map[int32]*acc, len(r.phases))
	allLats := make([][]time.Duration, len(r.phases))
	for i, p := range r.phases {
		end := p.end
		if end == 0 {
			end = now
		}
		out[i] = PhaseStats{Name: p.name, StartSeconds: p.start.Seconds(), Seconds: (end - p.start).Seconds(), Counters: maps(p.counters)}
		perPhase[i] = map[int32]*acc{}
	}
	for _, q := range r.requests {
		ps := &out[q.phase]
		a := perPhase[q.phase][q.name]
		if a == nil {
			a = &acc{st: EndpointStats{Endpoint: r.names[q.name], Statuses: map[string]int{}}}
			perPhase[q.phase][q.name] = a
		}
		label := StatusLabel(int(q.status))
		a.st.Requests++
		a.st.Statuses[label]++
		ps.Requests++
		if !q.ok {
			a.st.Unexpected++
			ps.Unexpected++
			if a.st.UnexpectedStatuses == nil {
				a.st.UnexpectedStatuses = map[string]int{}
			}
			a.st.UnexpectedStatuses[label]++
		}
		if q.status == StatusTransport || q.status >= 500 {
			ps.ServerErrs++
		}
		if q.status != StatusTransport {
			a.lats = append(a.lats, q.latency)
			allLats[q.phase] = append(allLats[q.phase], q.latency)
		}
	}
	for i := range out {
		ps := &out[i]
		for _, a := range perPhase[i] {
			a.st.Latency = Summarize(a.lats)
			a.st.Throughput = rate(a.st.Requests, ps.Seconds)
			ps.Endpoints = append(ps.Endpoints, a.st)
		}
		slices.SortFunc(ps.Endpoints, func(a, b EndpointStats) int { return compareEndpoints(a.Endpoint, b.Endpoint) })
		ps.Latency = Summarize(allLats[i])
		ps.Throughput = rate(ps.Requests, ps.Seconds)
	}
	lagsBy := make([]map[int32][]time.Duration, len(r.phases))
	for _, l := range r.lags {
		if lagsBy[l.phase] == nil {
			lagsBy[l.phase] = map[int32][]time.Duration{}
		}
		lagsBy[l.phase][l.name] = append(lagsBy[l.phase][l.name], l.d)
	}
	for i, byName := range lagsBy {
		for name, ds := range byName {
			out[i].Lags = append(out[i].Lags, LagStats{Name: r.names[name], Lag: Summarize(ds)})
		}
		slices.SortFunc(out[i].Lags, func(a, b LagStats) int { return compareStrings(a.Name, b.Name) })
	}
	return out
}

func maps(m map[string]int) map[string]int {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func rate(n int, seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return float64(n) / seconds
}

// compareEndpoints orders "METHOD /path" names by path, then method, so a
// table lists one resource's routes together.
func compareEndpoints(a, b string) int {
	am, ap := splitEndpoint(a)
	bm, bp := splitEndpoint(b)
	if c := compareStrings(ap, bp); c != 0 {
		return c
	}
	return compareStrings(am, bm)
}

func splitEndpoint(s string) (method, path string) {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			return s[:i], s[i+1:]
		}
	}
	return "", s
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Point is one interval of the timeline.
type Point struct {
	// Seconds is the interval's start since the recorder's start.
	Seconds    float64 `json:"t"`
	Phase      string  `json:"phase"`
	Requests   int     `json:"requests"`
	Throughput float64 `json:"throughputPerSec"`
	P50MS      float64 `json:"p50Ms"`
	P95MS      float64 `json:"p95Ms"`
	P99MS      float64 `json:"p99Ms"`
	MaxMS      float64 `json:"maxMs"`
	ServerErrs int     `json:"serverErrors"`
}

// Timeline buckets the requests by the time they were sent into intervals
// of width step, from the first interval to the last one with a request.
// Intervals without requests are kept (throughput 0) so a stall shows.
func (r *Recorder) Timeline(step time.Duration) []Point {
	if step <= 0 {
		step = time.Second
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.requests) == 0 {
		return nil
	}
	var last time.Duration
	for _, q := range r.requests {
		last = max(last, q.at)
	}
	n := int(last/step) + 1
	lats := make([][]time.Duration, n)
	pts := make([]Point, n)
	for i := range pts {
		pts[i].Seconds = (time.Duration(i) * step).Seconds()
		pts[i].Phase = r.phaseAtLocked(time.Duration(i) * step)
	}
	for _, q := range r.requests {
		i := max(int(q.at/step), 0)
		pts[i].Requests++
		if q.status == StatusTransport || q.status >= 500 {
			pts[i].ServerErrs++
		}
		if q.status != StatusTransport {
			lats[i] = append(lats[i], q.latency)
		}
	}
	for i := range pts {
		s := Summarize(lats[i])
		pts[i].Throughput = float64(pts[i].Requests) / step.Seconds()
		pts[i].P50MS, pts[i].P95MS, pts[i].P99MS, pts[i].MaxMS = Millis(s.P50), Millis(s.P95), Millis(s.P99), Millis(s.Max)
	}
	return pts
}

func (r *Recorder) phaseAtLocked(at time.Duration) string {
	name := r.phases[0].name
	for _, p := range r.phases {
		if p.start <= at {
			name = p.name
		}
	}
	return name
}
