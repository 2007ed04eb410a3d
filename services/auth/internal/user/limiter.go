package user

import (
	"sync"
	"time"
)

// FailureLimiter slows password guessing: after Max failures for one key
// within Window, further attempts for that key are refused until the oldest
// failure ages out. It lives in one process; each replica limits on its own,
// which still bounds guessing to replicas × Max per window.
type FailureLimiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu       sync.Mutex
	failures map[string][]time.Time
	sweeps   int
}

// NewFailureLimiter allows max failures per key within window.
func NewFailureLimiter(max int, window time.Duration, now func() time.Time) *FailureLimiter {
	if now == nil {
		now = time.Now
	}
	return &FailureLimiter{max: max, window: window, now: now, failures: map[string][]time.Time{}}
}

// Blocked reports whether key has used up its failures.
func (l *FailureLimiter) Blocked(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recent(key)) >= l.max
}

// Fail records a failure for key.
func (l *FailureLimiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures[key] = append(l.recent(key), l.now())
	l.sweeps++
	if l.sweeps%1024 == 0 {
		l.sweep()
	}
}

// Reset forgets key's failures (after a successful sign-in).
func (l *FailureLimiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, key)
}

// recent drops failures older than the window; l.mu must be held.
func (l *FailureLimiter) recent(key string) []time.Time {
	cutoff := l.now().Add(-l.window)
	ts := l.failures[key]
	i := 0
	for i < len(ts) && !ts[i].After(cutoff) {
		i++
	}
	if i == len(ts) {
		delete(l.failures, key)
		return nil
	}
	ts = ts[i:]
	l.failures[key] = ts
	return ts
}

// sweep bounds memory under a spray of distinct keys; l.mu must be held.
func (l *FailureLimiter) sweep() {
	for k := range l.failures {
		l.recent(k)
	}
}
