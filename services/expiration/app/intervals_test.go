package app

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ticketing/services/expiration/internal/expiry"
)

// A timer must reach a worker before its expiresAt, whichever way the polls
// fall, with room for a loaded machine: half the head start at most.
func TestPollsFitInsideTheLead(t *testing.T) {
	worst := delayedCheckInterval + taskCheckInterval*3/2
	assert.LessOrEqual(t, worst, expiry.Lead/2, "polls of %v and %v", delayedCheckInterval, taskCheckInterval)
}
