package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/testkit"
	"github.com/ticketing/services/orders/internal/order"
	"github.com/ticketing/services/orders/internal/store"
)

// The hold hint on FerretDB: nothing remembered is not found, and the last
// hold remembered for a ticket is the one read back.
func TestHolds(t *testing.T) {
	ctx := context.Background()
	s := store.NewHolds(testkit.MongoDB(t))
	ticket := oid()
	_, found, err := s.Last(ctx, ticket)
	require.NoError(t, err)
	assert.False(t, found, "nothing remembered")

	first := order.Hold{OrderID: oid(), Until: time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC)}
	require.NoError(t, s.Remember(ctx, ticket, first.OrderID, first.Until))
	got, found, err := s.Last(ctx, ticket)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, first, got)

	second := order.Hold{OrderID: oid(), Until: first.Until.Add(15 * time.Minute)}
	require.NoError(t, s.Remember(ctx, ticket, second.OrderID, second.Until))
	got, _, err = s.Last(ctx, ticket)
	require.NoError(t, err)
	assert.Equal(t, second, got, "the later hold replaces the earlier")

	_, found, err = s.Last(ctx, oid())
	require.NoError(t, err)
	assert.False(t, found, "another ticket has no hold")
	_, found, err = s.Last(ctx, "not-an-id")
	require.NoError(t, err)
	assert.False(t, found, "an id that is no ticket's")
	assert.Error(t, s.Remember(ctx, "not-an-id", oid(), first.Until))
}
