package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/testkit"
	"github.com/ticketing/services/orders/internal/store"
)

// The hold hint on FerretDB: nothing remembered reads as the zero time, and
// the last hold remembered for a ticket is the one read back.
func TestHolds(t *testing.T) {
	ctx := context.Background()
	s := store.NewHolds(testkit.MongoDB(t))
	ticket := oid()
	until, err := s.Until(ctx, ticket)
	require.NoError(t, err)
	assert.True(t, until.IsZero(), "nothing remembered")

	first := time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC)
	require.NoError(t, s.Remember(ctx, ticket, oid(), first))
	until, err = s.Until(ctx, ticket)
	require.NoError(t, err)
	assert.True(t, first.Equal(until), "got %v", until)

	second := first.Add(15 * time.Minute)
	require.NoError(t, s.Remember(ctx, ticket, oid(), second))
	until, err = s.Until(ctx, ticket)
	require.NoError(t, err)
	assert.True(t, second.Equal(until), "the later hold replaces the earlier, got %v", until)

	other, err := s.Until(ctx, oid())
	require.NoError(t, err)
	assert.True(t, other.IsZero(), "another ticket has no hold")
	assert.Error(t, s.Remember(ctx, "not-an-id", oid(), first))
}
