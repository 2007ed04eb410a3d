package check

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/tools/loadgen/scenario"
)

func find(t *testing.T, rs []Result, name string) Result {
	t.Helper()
	for _, r := range rs {
		if r.Name == name {
			return r
		}
	}
	require.Failf(t, "no result", "%s", name)
	return Result{}
}

// An order seen still created past its hold + grace fails the run even if
// it lapses before the last snapshot: the contract's bound was broken.
func TestMemoryKeepsLateHolds(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const tk, o = "aaaaaaaaaaaaaaaaaaaaaaa1", "bbbbbbbbbbbbbbbbbbbbbbb1"
	snap := func(at time.Time, status, orderID string) Snapshot {
		return Snapshot{
			At:      at,
			Tickets: map[string]Ticket{tk: {ID: tk, OrderID: orderID}},
			Replica: map[string]Ticket{tk: {ID: tk}},
			Orders:  map[string]Order{o: {ID: o, TicketID: tk, Status: status, ExpiresAt: at.Add(-8 * time.Second)}},
		}
	}
	var m memory
	grace := 5 * time.Second

	results, _, _ := Evaluate(snap(at, "created", o), scenario.NewLedger(), grace)
	assert.Equal(t, 1, m.apply(snap(at, "created", o), grace, results))
	assert.True(t, find(t, results, NameStuckOrders).Failed())

	later := snap(at.Add(time.Second), "cancelled", "")
	results, _, _ = Evaluate(later, scenario.NewLedger(), grace)
	require.False(t, find(t, results, NameStuckOrders).Failed(), "on its own the later snapshot looks fine")
	assert.Equal(t, 1, m.apply(later, grace, results), "a late hold cannot be undone by waiting")
	r := find(t, results, NameStuckOrders)
	assert.True(t, r.Failed())
	assert.Equal(t, 1, r.Failures)
	assert.Contains(t, r.Detail, "0 still are")
	require.Len(t, r.Examples, 1)
	assert.Contains(t, r.Examples[0], "still created 8s after its expiresAt")

	var fresh memory
	results, _, _ = Evaluate(later, scenario.NewLedger(), grace)
	assert.Zero(t, fresh.apply(later, grace, results), "nothing late seen, nothing kept")
}

func TestMemoryKeepsDoubleReservations(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const tk = "aaaaaaaaaaaaaaaaaaaaaaa1"
	orders := map[string]Order{
		"bbbbbbbbbbbbbbbbbbbbbbb1": {ID: "bbbbbbbbbbbbbbbbbbbbbbb1", TicketID: tk, Status: "created", ExpiresAt: at.Add(time.Hour)},
		"bbbbbbbbbbbbbbbbbbbbbbb2": {ID: "bbbbbbbbbbbbbbbbbbbbbbb2", TicketID: tk, Status: "created", ExpiresAt: at.Add(time.Hour)},
	}
	var m memory
	s := Snapshot{At: at, Orders: orders}
	results, _, _ := Evaluate(s, scenario.NewLedger(), time.Second)
	assert.Equal(t, 1, m.apply(s, time.Second, results))

	orders["bbbbbbbbbbbbbbbbbbbbbbb2"] = Order{ID: "bbbbbbbbbbbbbbbbbbbbbbb2", TicketID: tk, Status: "cancelled"}
	results, _, _ = Evaluate(s, scenario.NewLedger(), time.Second)
	assert.Equal(t, 1, m.apply(s, time.Second, results))
	r := find(t, results, NameDoubleReservations)
	assert.True(t, r.Failed())
	assert.Equal(t, "seen in an earlier snapshot", r.Detail)
}
