package check_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/tools/loadgen/check"
	"github.com/ticketing/tools/loadgen/scenario"
)

var at = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	t1, t2, t3 = "aaaaaaaaaaaaaaaaaaaaaaa1", "aaaaaaaaaaaaaaaaaaaaaaa2", "aaaaaaaaaaaaaaaaaaaaaaa3"
	o1, o2, o3 = "bbbbbbbbbbbbbbbbbbbbbbb1", "bbbbbbbbbbbbbbbbbbbbbbb2", "bbbbbbbbbbbbbbbbbbbbbbb3"
)

// healthy is a settled state: t1 sold (o1 complete, paid), t2 released (o2
// lapsed), t3 never ordered.
func healthy() check.Snapshot {
	return check.Snapshot{
		At: at,
		Tickets: map[string]check.Ticket{
			t1: {ID: t1, Title: "a", Price: 10, Version: 1, OrderID: o1},
			t2: {ID: t2, Title: "b", Price: 20, Version: 2},
			t3: {ID: t3, Title: "c", Price: 15, Version: 2},
		},
		Replica: map[string]check.Ticket{
			t1: {ID: t1, Title: "a", Price: 10, Version: 1},
			t2: {ID: t2, Title: "b", Price: 20, Version: 2},
			t3: {ID: t3, Title: "c", Price: 15, Version: 2},
		},
		Orders: map[string]check.Order{
			o1: {ID: o1, TicketID: t1, Status: "complete", ExpiresAt: at.Add(-time.Minute), Version: 1},
			o2: {ID: o2, TicketID: t2, Status: "cancelled", ExpiresAt: at.Add(-time.Minute), Version: 1},
		},
		PayOrders: map[string]check.PaymentOrder{
			o1: {ID: o1, Status: "created"},
			o2: {ID: o2, Status: "cancelled", Version: 1},
		},
		Charges: []check.Charge{{ID: "ch1", OrderID: o1, Status: check.ChargeCharged}, {ID: "ch3", OrderID: o2, Status: "failed"}},
	}
}

func ledger() *scenario.Ledger {
	l := scenario.NewLedger()
	l.Ticket(scenario.TicketRecord{ID: t3, WantPrice: 15, WantVersion: 2})
	l.Order(scenario.OrderRecord{ID: o1, TicketID: t1})
	l.MarkPaid(o1)
	l.Order(scenario.OrderRecord{ID: o2, TicketID: t2})
	return l
}

func byName(rs []check.Result) map[string]check.Result {
	m := map[string]check.Result{}
	for _, r := range rs {
		m[r.Name] = r
	}
	return m
}

func TestHealthyStatePasses(t *testing.T) {
	results, pending, _ := check.Evaluate(healthy(), ledger(), 5*time.Second)
	assert.Zero(t, pending)
	for _, r := range results {
		assert.Equal(t, check.StatusPass, r.Status, "%s: %v", r.Name, r.Examples)
	}
	m := byName(results)
	assert.Equal(t, 3, m[check.NameReplicaTickets].Judged)
	assert.Equal(t, 1, m[check.NamePaidOrders].Judged)
	assert.Equal(t, 1, m[check.NameEdits].Judged)
}

// Each broken state fails exactly the check meant to catch it.
func TestBrokenStatesFailTheirCheck(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(s *check.Snapshot, l *scenario.Ledger)
		fails  []string
	}{
		{"second active order for a sold ticket", func(s *check.Snapshot, _ *scenario.Ledger) {
			s.Orders[o3] = check.Order{ID: o3, TicketID: t1, Status: "created", ExpiresAt: at.Add(time.Hour)}
			s.PayOrders[o3] = check.PaymentOrder{ID: o3, Status: "created"}
		}, []string{check.NameDoubleReservations}},
		{"replica behind by one version", func(s *check.Snapshot, _ *scenario.Ledger) {
			r := s.Replica[t2]
			r.Version, r.Price = 1, 19
			s.Replica[t2] = r
		}, []string{check.NameReplicaTickets}},
		{"ticket:created lost", func(s *check.Snapshot, _ *scenario.Ledger) {
			delete(s.Replica, t3)
		}, []string{check.NameReplicaTickets, check.NameEdits}},
		{"order:created never reached tickets", func(s *check.Snapshot, _ *scenario.Ledger) {
			t := s.Tickets[t1]
			t.OrderID = ""
			s.Tickets[t1] = t
		}, []string{check.NameReservations}},
		{"order:cancelled never reached tickets", func(s *check.Snapshot, _ *scenario.Ledger) {
			t := s.Tickets[t2]
			t.OrderID = o2
			s.Tickets[t2] = t
		}, []string{check.NameReservations}},
		{"order:cancelled never reached payments", func(s *check.Snapshot, _ *scenario.Ledger) {
			s.PayOrders[o2] = check.PaymentOrder{ID: o2, Status: "created"}
		}, []string{check.NamePaymentsReplica}},
		{"order:created never reached payments", func(s *check.Snapshot, _ *scenario.Ledger) {
			delete(s.PayOrders, o2)
		}, []string{check.NamePaymentsReplica}},
		{"hold never lapsed", func(s *check.Snapshot, _ *scenario.Ledger) {
			o := s.Orders[o2]
			o.Status = "created"
			s.Orders[o2] = o
			t := s.Tickets[t2]
			t.OrderID = o2
			s.Tickets[t2] = t
			s.PayOrders[o2] = check.PaymentOrder{ID: o2, Status: "created"}
		}, []string{check.NameStuckOrders}},
		{"charge kept for a cancelled order", func(s *check.Snapshot, _ *scenario.Ledger) {
			s.Charges[1] = check.Charge{ID: "ch2", OrderID: o2, Status: check.ChargeCharged}
		}, []string{check.NameCharges}},
		{"charge of a cancelled order refunded", func(s *check.Snapshot, _ *scenario.Ledger) {
			s.Charges[1] = check.Charge{ID: "ch2", OrderID: o2, Status: check.ChargeCharged, Refunded: true}
		}, nil},
		{"charge left in doubt", func(s *check.Snapshot, _ *scenario.Ledger) {
			s.Charges[1] = check.Charge{ID: "ch2", OrderID: o2, Status: check.ChargePending}
		}, []string{check.NameCharges}},
		{"order charged twice", func(s *check.Snapshot, _ *scenario.Ledger) {
			s.Charges = append(s.Charges, check.Charge{ID: "ch2", OrderID: o1, Status: check.ChargeCharged})
		}, []string{check.NameCharges}},
		{"paid order lapsed without refund", func(s *check.Snapshot, _ *scenario.Ledger) {
			o := s.Orders[o1]
			o.Status = "cancelled"
			s.Orders[o1] = o
			t := s.Tickets[t1]
			t.OrderID = ""
			s.Tickets[t1] = t
			s.PayOrders[o1] = check.PaymentOrder{ID: o1, Status: "cancelled"}
		}, []string{check.NameCharges, check.NamePaidOrders}},
		{"order answered 201 but missing", func(_ *check.Snapshot, l *scenario.Ledger) {
			l.Order(scenario.OrderRecord{ID: o3, TicketID: t3})
		}, []string{check.NameRunOrders}},
		{"edit lost", func(s *check.Snapshot, _ *scenario.Ledger) {
			for _, m := range []map[string]check.Ticket{s.Tickets, s.Replica} {
				t := m[t3]
				t.Price, t.Version = 10, 1
				m[t3] = t
			}
		}, []string{check.NameEdits}},
		{"event stuck in an outbox", func(s *check.Snapshot, _ *scenario.Ledger) {
			o := s.Orders[o2]
			o.Outbox = 1
			s.Orders[o2] = o
		}, []string{check.NameOutboxes}},
		{"problem seen over HTTP", func(_ *check.Snapshot, l *scenario.Ledger) {
			l.Problem("two winners")
		}, []string{check.NameHTTP}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, l := healthy(), ledger()
			tt.break_(&s, l)
			results, _, _ := check.Evaluate(s, l, 5*time.Second)
			var failed []string
			for _, r := range results {
				if r.Failed() {
					failed = append(failed, r.Name)
					assert.NotEmpty(t, r.Examples, r.Name)
				}
			}
			assert.ElementsMatch(t, tt.fails, failed)
		})
	}
}

func TestStuckOrdersWaitsForTheGrace(t *testing.T) {
	s := healthy()
	s.Orders[o3] = check.Order{ID: o3, TicketID: t3, Status: "created", ExpiresAt: at.Add(-3 * time.Second)}
	r, pending, next := check.StuckOrders(s, 5*time.Second)
	assert.Equal(t, check.StatusPass, r.Status, "3 s past its hold is within the 5 s grace")
	assert.Equal(t, 1, pending)
	assert.Equal(t, at.Add(2*time.Second), next)
	assert.Contains(t, r.Detail, "not judged")

	s.At = at.Add(2*time.Second + time.Millisecond)
	r, pending, _ = check.StuckOrders(s, 5*time.Second)
	assert.Equal(t, check.StatusFail, r.Status)
	assert.Zero(t, pending)
}

func TestSkippedWithoutDatabases(t *testing.T) {
	results, _, _ := check.Evaluate(check.Snapshot{At: at}, scenario.NewLedger(), time.Second)
	for _, r := range results {
		if r.Name == check.NameHTTP {
			assert.Equal(t, check.StatusPass, r.Status)
			continue
		}
		assert.Equal(t, check.StatusSkipped, r.Status, r.Name)
		assert.False(t, r.Failed())
	}
}

// Without databases Run judges only what the run saw, at once.
func TestRunWithoutDatabases(t *testing.T) {
	l := scenario.NewLedger()
	out, err := check.Run(context.Background(), check.DBs{}, l, check.Options{Settle: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, check.StatusPass, byName(out.Results)[check.NameHTTP].Status)
	assert.True(t, out.Settled)
	assert.Less(t, out.Waited, time.Minute, "nothing to wait for")

	l.Problem("double reservation: 2 buyers won ticket x")
	out, err = check.Run(context.Background(), check.DBs{}, l, check.Options{Settle: time.Millisecond})
	require.NoError(t, err)
	assert.False(t, out.Settled)
	r := byName(out.Results)[check.NameHTTP]
	assert.Equal(t, check.StatusFail, r.Status)
	assert.Equal(t, []string{"double reservation: 2 buyers won ticket x"}, r.Examples)
}
