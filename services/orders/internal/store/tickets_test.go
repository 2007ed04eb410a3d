package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/testkit"
	"github.com/ticketing/services/orders/internal/order"
	"github.com/ticketing/services/orders/internal/store"
)

// GetMany on FerretDB returns the replicas it has among the ids, each once,
// and leaves out the ones it lacks and ids that are no ticket's.
func TestTicketsGetMany(t *testing.T) {
	ctx := context.Background()
	s := store.NewTickets(testkit.MongoDB(t))
	a := order.Ticket{ID: oid(), Title: "a", Price: 10, Version: 0}
	b := order.Ticket{ID: oid(), Title: "b", Price: 20, Version: 3}
	for _, tk := range []order.Ticket{a, b} {
		applied, err := s.Apply(ctx, tk)
		require.NoError(t, err)
		require.True(t, applied)
	}
	missing := oid()

	for _, tc := range []struct {
		name string
		ids  []string
		want map[string]order.Ticket
	}{
		{"none", nil, map[string]order.Ticket{}},
		{"one", []string{a.ID}, map[string]order.Ticket{a.ID: a}},
		{"several, one twice", []string{a.ID, b.ID, a.ID}, map[string]order.Ticket{a.ID: a, b.ID: b}},
		{"one the replica lacks", []string{missing, b.ID}, map[string]order.Ticket{b.ID: b}},
		{"an id that is no ticket's", []string{"not-an-id", a.ID}, map[string]order.Ticket{a.ID: a}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.GetMany(ctx, tc.ids)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
