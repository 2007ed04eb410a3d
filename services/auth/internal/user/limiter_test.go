package user_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/services/auth/internal/user"
)

func TestFailureLimiter(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := user.NewFailureLimiter(user.NewMemoryFailures(), 3, time.Minute, func() time.Time { return now })
	blocked := func(key string) bool {
		b, err := l.Blocked(ctx, key)
		require.NoError(t, err)
		return b
	}

	for i := 0; i < 3; i++ {
		assert.False(t, blocked("k"), "failure %d", i)
		require.NoError(t, l.Fail(ctx, "k"))
	}
	assert.True(t, blocked("k"), "blocked after 3 failures")
	assert.False(t, blocked("other"), "keys are separate")

	now = now.Add(61 * time.Second)
	assert.False(t, blocked("k"), "failures age out after the window")

	for range 3 {
		require.NoError(t, l.Fail(ctx, "k"))
	}
	require.NoError(t, l.Reset(ctx, "k"))
	assert.False(t, blocked("k"), "reset forgets")
}
