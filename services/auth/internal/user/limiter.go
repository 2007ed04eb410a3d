package user

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// FailureLog keeps the recent failed sign-ins of each key (an email, a
// client address) where every copy of the service sees them, so the limits
// hold across copies rather than per process.
type FailureLog interface {
	// Recent returns key's failures at or after since.
	Recent(ctx context.Context, key string, since time.Time) ([]time.Time, error)
	// Add records a failure of key at t, keeping only the newest keep.
	Add(ctx context.Context, key string, t time.Time, keep int) error
	// Clear forgets key's failures.
	Clear(ctx context.Context, key string) error
}

// FailureLimiter slows password guessing: after Max failures for one key
// within Window, further attempts for that key are refused until the oldest
// failure ages out.
type FailureLimiter struct {
	max    int
	window time.Duration
	now    func() time.Time
	log    FailureLog
}

// NewFailureLimiter allows max failures per key within window, counted in
// log. now may be nil.
func NewFailureLimiter(log FailureLog, max int, window time.Duration, now func() time.Time) *FailureLimiter {
	if now == nil {
		now = time.Now
	}
	return &FailureLimiter{max: max, window: window, now: now, log: log}
}

// Blocked reports whether key has used up its failures.
func (l *FailureLimiter) Blocked(ctx context.Context, key string) (bool, error) {
	recent, err := l.log.Recent(ctx, key, l.now().Add(-l.window))
	if err != nil {
		return false, fmt.Errorf("sign-in limit of %s: %w", key, err)
	}
	return len(recent) >= l.max, nil
}

// Fail records a failure for key. Only the newest max failures decide
// whether a key is blocked, so no more are kept.
func (l *FailureLimiter) Fail(ctx context.Context, key string) error {
	if err := l.log.Add(ctx, key, l.now(), l.max); err != nil {
		return fmt.Errorf("record failed sign-in of %s: %w", key, err)
	}
	return nil
}

// Reset forgets key's failures (after a successful sign-in).
func (l *FailureLimiter) Reset(ctx context.Context, key string) error {
	if err := l.log.Clear(ctx, key); err != nil {
		return fmt.Errorf("reset sign-in limit of %s: %w", key, err)
	}
	return nil
}

// MemoryFailures is a FailureLog in this process only: for tests, and for
// a single copy of the service.
type MemoryFailures struct {
	mu       sync.Mutex
	failures map[string][]time.Time
}

// NewMemoryFailures returns an empty in-process log.
func NewMemoryFailures() *MemoryFailures {
	return &MemoryFailures{failures: map[string][]time.Time{}}
}

func (m *MemoryFailures) Recent(_ context.Context, key string, since time.Time) ([]time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []time.Time
	for _, t := range m.failures[key] {
		if !t.Before(since) {
			out = append(out, t)
		}
	}
	return out, nil
}

func (m *MemoryFailures) Add(_ context.Context, key string, t time.Time, keep int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := append(m.failures[key], t)
	if len(ts) > keep {
		ts = ts[len(ts)-keep:]
	}
	m.failures[key] = ts
	return nil
}

func (m *MemoryFailures) Clear(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.failures, key)
	return nil
}
