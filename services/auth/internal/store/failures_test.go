package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/testkit"
	"github.com/ticketing/services/auth/internal/store"
	"github.com/ticketing/services/auth/internal/user"
)

// The shared log keeps the newest failures per key, counts failures made at
// once by several copies, and forgets on Clear.
func TestFailuresAreShared(t *testing.T) {
	db := testkit.MongoDB(t)
	ctx := context.Background()
	copyA, copyB := store.NewFailures(db), store.NewFailures(db) // two copies of the service
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			log := copyA
			if i%2 == 1 {
				log = copyB
			}
			assert.NoError(t, log.Add(ctx, "email:a@example.com", t0.Add(time.Duration(i)*time.Second), 10))
		}()
	}
	wg.Wait()
	got, err := copyB.Recent(ctx, "email:a@example.com", t0)
	require.NoError(t, err)
	assert.Len(t, got, 4, "failures written at once by two copies all count")

	for i := range 5 {
		require.NoError(t, copyA.Add(ctx, "ip:10.0.0.1", t0.Add(time.Duration(i)*time.Minute), 3))
	}
	got, err = copyA.Recent(ctx, "ip:10.0.0.1", t0)
	require.NoError(t, err)
	assert.Equal(t, []time.Time{t0.Add(2 * time.Minute), t0.Add(3 * time.Minute), t0.Add(4 * time.Minute)}, got, "only the newest 3 kept")
	got, err = copyA.Recent(ctx, "ip:10.0.0.1", t0.Add(3*time.Minute))
	require.NoError(t, err)
	assert.Len(t, got, 2, "older than since is left out")

	require.NoError(t, copyB.Clear(ctx, "ip:10.0.0.1"))
	got, err = copyA.Recent(ctx, "ip:10.0.0.1", t0)
	require.NoError(t, err)
	assert.Empty(t, got)
}

// Two copies of the service share one limit: failures through either block
// both.
func TestLimitHoldsAcrossCopies(t *testing.T) {
	db := testkit.MongoDB(t)
	ctx := context.Background()
	now := time.Now()
	clock := func() time.Time { return now }
	copyA := user.NewFailureLimiter(store.NewFailures(db), 3, time.Minute, clock)
	copyB := user.NewFailureLimiter(store.NewFailures(db), 3, time.Minute, clock)

	require.NoError(t, copyA.Fail(ctx, "k"))
	require.NoError(t, copyB.Fail(ctx, "k"))
	blocked, err := copyA.Blocked(ctx, "k")
	require.NoError(t, err)
	assert.False(t, blocked)
	require.NoError(t, copyA.Fail(ctx, "k"))
	for _, l := range []*user.FailureLimiter{copyA, copyB} {
		blocked, err := l.Blocked(ctx, "k")
		require.NoError(t, err)
		assert.True(t, blocked, "three failures across two copies")
	}
}

// Records whose newest failure is older than the cutoff are deleted; a
// record with one recent failure stays whole, whatever order its failures
// arrived in.
func TestForgetBefore(t *testing.T) {
	db := testkit.MongoDB(t)
	ctx := context.Background()
	log := store.NewFailures(db)
	require.NoError(t, log.EnsureIndexes(ctx))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	require.NoError(t, log.Add(ctx, "ip:old", t0, 5))
	require.NoError(t, log.Add(ctx, "ip:old", t0.Add(time.Minute), 5))
	// The newer failure first, as two copies may store them.
	require.NoError(t, log.Add(ctx, "ip:mixed", t0.Add(time.Hour), 5))
	require.NoError(t, log.Add(ctx, "ip:mixed", t0, 5))

	n, err := log.ForgetBefore(ctx, t0.Add(30*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	got, err := log.Recent(ctx, "ip:old", t0)
	require.NoError(t, err)
	assert.Empty(t, got, "the stale record is gone")
	got, err = log.Recent(ctx, "ip:mixed", t0)
	require.NoError(t, err)
	assert.Len(t, got, 2, "a record with a recent failure keeps all of them")
}
