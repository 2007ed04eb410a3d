package redistest_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/services/expiration/internal/redistest"
)

func TestClaimsAreExclusiveAndLeaveOthersKeysAlone(t *testing.T) {
	ctx := context.Background()
	a := redistest.DB(t)
	b := redistest.DB(t)
	assert.NotEqual(t, a.DB, b.DB, "two claims never share a database")
	assert.NotZero(t, a.DB, "database 0 is never lent")

	// Make b look like someone else's database: their key, no claim or marker.
	cb := redistest.Client(t, b)
	require.NoError(t, cb.FlushDB(ctx).Err())
	require.NoError(t, cb.Set(ctx, "someone:else", "keep me", 0).Err())
	t.Cleanup(func() { cb.Del(context.Background(), "someone:else") })

	c := redistest.DB(t)
	assert.NotEqual(t, b.DB, c.DB, "a database holding others' keys is not lent")
	v, err := cb.Get(ctx, "someone:else").Result()
	require.NoError(t, err)
	assert.Equal(t, "keep me", v, "and never flushed")

	ca := redistest.Client(t, a)
	n, err := ca.DBSize(ctx).Result()
	require.NoError(t, err)
	assert.EqualValues(t, 2, n, "a lent database holds only the claim and its marker")
}
