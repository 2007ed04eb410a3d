package user_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ticketing/services/auth/internal/user"
)

func TestFailureLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := user.NewFailureLimiter(3, time.Minute, func() time.Time { return now })

	for i := 0; i < 3; i++ {
		assert.False(t, l.Blocked("k"), "failure %d", i)
		l.Fail("k")
	}
	assert.True(t, l.Blocked("k"), "blocked after 3 failures")
	assert.False(t, l.Blocked("other"), "keys are separate")

	now = now.Add(61 * time.Second)
	assert.False(t, l.Blocked("k"), "failures age out after the window")

	l.Fail("k")
	l.Fail("k")
	l.Fail("k")
	l.Reset("k")
	assert.False(t, l.Blocked("k"), "reset forgets")
}
