package check

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ticketing/tools/loadgen/scenario"
)

// Result is one check's verdict.
type Result struct {
	Name   string `json:"name"`
	Status string `json:"status"` // StatusPass, StatusFail or StatusSkipped
	// Failures is how many records break the rule, out of Judged.
	Failures int      `json:"failures"`
	Judged   int      `json:"judged"`
	Detail   string   `json:"detail,omitempty"`
	Examples []string `json:"examples,omitempty"`
}

// Verdicts.
const (
	StatusPass    = "pass"
	StatusFail    = "fail"
	StatusSkipped = "skipped"
)

// Failed reports whether the check failed.
func (r Result) Failed() bool { return r.Status == StatusFail }

// Check names.
const (
	NameDoubleReservations = "double reservations"
	NameStuckOrders        = "orders stuck in created past hold + grace"
	NameReplicaTickets     = "replica mismatches (tickets → orders: title, price, version)"
	NameReservations       = "reservation mismatches (orders → tickets' orderId)"
	NamePaymentsReplica    = "replica mismatches (orders → payments)"
	NameCharges            = "charges without a complete order or a refund"
	NamePaidOrders         = "paid orders neither complete nor refunded"
	NameRunOrders          = "orders answered 201 but not stored"
	NameOutboxes           = "events left in outboxes"
	NameEdits              = "edited tickets not at their final price and version"
)

const maxExamples = 10

// verdict collects one check's failures.
type verdict struct {
	r Result
}

func newVerdict(name string) *verdict { return &verdict{r: Result{Name: name}} }

func (v *verdict) judge(n int) { v.r.Judged += n }

func (v *verdict) fail(format string, args ...any) {
	v.r.Failures++
	if len(v.r.Examples) < maxExamples {
		v.r.Examples = append(v.r.Examples, fmt.Sprintf(format, args...))
	}
}

func (v *verdict) done() Result {
	v.r.Status = StatusPass
	if v.r.Failures > 0 {
		v.r.Status = StatusFail
	}
	slices.Sort(v.r.Examples)
	return v.r
}

func skipped(name, why string) Result {
	return Result{Name: name, Status: StatusSkipped, Detail: why}
}

// active says whether an order holds its ticket: only a cancelled one lets
// it go (a complete one keeps it for good).
func active(o Order) bool { return o.Status != "cancelled" }

// sortedKeys keeps the examples, and so the reports, stable.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// DoubleReservations finds tickets held by more than one active order.
func DoubleReservations(s Snapshot) Result {
	if s.Orders == nil {
		return skipped(NameDoubleReservations, "needs the orders database")
	}
	v := newVerdict(NameDoubleReservations)
	holders := map[string][]string{}
	for _, id := range sortedKeys(s.Orders) {
		if o := s.Orders[id]; active(o) {
			holders[o.TicketID] = append(holders[o.TicketID], o.ID)
		}
	}
	v.judge(len(holders))
	for _, t := range sortedKeys(holders) {
		if hs := holders[t]; len(hs) > 1 {
			v.fail("ticket %s held by %d orders: %s", t, len(hs), strings.Join(hs, ", "))
		}
	}
	return v.done()
}

// StuckOrders finds orders still created more than grace after their
// expiresAt. pending counts created orders whose hold + grace has not yet
// passed: they cannot be judged yet.
func StuckOrders(s Snapshot, grace time.Duration) (r Result, pending int, nextDue time.Time) {
	if s.Orders == nil {
		return skipped(NameStuckOrders, "needs the orders database"), 0, time.Time{}
	}
	v := newVerdict(NameStuckOrders)
	for _, id := range sortedKeys(s.Orders) {
		o := s.Orders[id]
		if o.Status != "created" {
			continue
		}
		due := o.ExpiresAt.Add(grace)
		if s.At.Before(due) {
			pending++
			if nextDue.IsZero() || due.Before(nextDue) {
				nextDue = due
			}
			continue
		}
		v.judge(1)
		v.fail("order %s still created %s after its expiresAt %s", o.ID, s.At.Sub(o.ExpiresAt).Round(time.Millisecond), o.ExpiresAt.Format(time.RFC3339Nano))
	}
	// Every order that is not created any more was judged fine.
	for _, o := range s.Orders {
		if o.Status != "created" {
			v.judge(1)
		}
	}
	r = v.done()
	if pending > 0 {
		r.Detail = fmt.Sprintf("%d orders still within their hold + %s, not judged", pending, grace)
	}
	return r, pending, nextDue
}

// ReplicaTickets compares every ticket with the orders service's copy.
func ReplicaTickets(s Snapshot) Result {
	if s.Tickets == nil || s.Replica == nil {
		return skipped(NameReplicaTickets, "needs the tickets and orders databases")
	}
	v := newVerdict(NameReplicaTickets)
	v.judge(len(s.Tickets))
	for _, id := range sortedKeys(s.Tickets) {
		t := s.Tickets[id]
		r, ok := s.Replica[id]
		switch {
		case !ok:
			v.fail("ticket %s (version %d) missing from orders", id, t.Version)
		case r.Title != t.Title || r.Price != t.Price || r.Version != t.Version:
			v.fail("ticket %s: tickets has v%d %v %q, orders has v%d %v %q", id, t.Version, t.Price, t.Title, r.Version, r.Price, r.Title)
		}
	}
	for _, id := range sortedKeys(s.Replica) {
		if _, ok := s.Tickets[id]; !ok {
			v.fail("orders has ticket %s that tickets does not", id)
		}
	}
	return v.done()
}

// Reservations checks that every ticket names the order that holds it, and
// no order once nothing holds it.
func Reservations(s Snapshot) Result {
	if s.Tickets == nil || s.Orders == nil {
		return skipped(NameReservations, "needs the tickets and orders databases")
	}
	v := newVerdict(NameReservations)
	holders := map[string][]string{}
	for _, id := range sortedKeys(s.Orders) {
		if o := s.Orders[id]; active(o) {
			holders[o.TicketID] = append(holders[o.TicketID], o.ID)
		}
	}
	v.judge(len(s.Tickets))
	for _, id := range sortedKeys(s.Tickets) {
		t := s.Tickets[id]
		hs := holders[id]
		// Naming either of two holders is right here: two holders are
		// DoubleReservations' finding.
		if len(hs) == 0 && t.OrderID != "" || len(hs) > 0 && !slices.Contains(hs, t.OrderID) {
			v.fail("ticket %s names order %q, but the orders holding it are %q", id, t.OrderID, hs)
		}
	}
	return v.done()
}

// PaymentsReplica checks that payments knows every order, and knows the
// cancelled ones as cancelled.
func PaymentsReplica(s Snapshot) Result {
	if s.Orders == nil || s.PayOrders == nil {
		return skipped(NamePaymentsReplica, "needs the orders and payments databases")
	}
	v := newVerdict(NamePaymentsReplica)
	v.judge(len(s.Orders))
	for _, id := range sortedKeys(s.Orders) {
		o := s.Orders[id]
		p, ok := s.PayOrders[id]
		switch {
		case !ok:
			v.fail("order %s (%s) missing from payments", id, o.Status)
		case o.Status == "cancelled" && p.Status != "cancelled":
			v.fail("order %s is cancelled, payments has it %s", id, p.Status)
		}
	}
	return v.done()
}

// Charges checks that every charge belongs to a complete order or was
// refunded, and that no order was charged twice.
func Charges(s Snapshot) Result {
	if s.Charges == nil || s.Orders == nil {
		return skipped(NameCharges, "needs the orders and payments databases")
	}
	v := newVerdict(NameCharges)
	v.judge(len(s.Charges))
	kept := map[string]int{}
	for _, c := range s.Charges {
		if c.Status == ChargePending && !c.Refunded {
			v.fail("payment %s of order %s still pending: whether Stripe charged is unknown", c.ID, c.OrderID)
			continue
		}
		if c.Status != ChargeCharged || c.Refunded {
			continue
		}
		kept[c.OrderID]++
		o, ok := s.Orders[c.OrderID]
		switch {
		case !ok:
			v.fail("charge %s for unknown order %s", c.ID, c.OrderID)
		case o.Status != "complete":
			v.fail("charge %s kept for order %s, which is %s", c.ID, c.OrderID, o.Status)
		}
	}
	for _, id := range sortedKeys(kept) {
		if kept[id] > 1 {
			v.fail("order %s charged %d times without a refund", id, kept[id])
		}
	}
	return v.done()
}

// PaidOrders checks the orders the run paid for: each ends complete, or
// cancelled with its charge refunded.
func PaidOrders(s Snapshot, run map[string]scenario.OrderRecord) Result {
	if s.Orders == nil {
		return skipped(NamePaidOrders, "needs the orders database")
	}
	refunded := map[string]bool{}
	for _, c := range s.Charges {
		if c.Status == ChargeCharged && c.Refunded {
			refunded[c.OrderID] = true
		}
	}
	v := newVerdict(NamePaidOrders)
	for _, id := range sortedKeys(run) {
		if !run[id].Paid {
			continue
		}
		v.judge(1)
		o, ok := s.Orders[id]
		switch {
		case !ok:
			v.fail("paid order %s is not stored", id)
		case o.Status == "complete":
		case o.Status == "cancelled" && (s.Charges == nil || refunded[id]):
			// Without the payments database the refund cannot be seen;
			// Charges is skipped then too.
		default:
			v.fail("paid order %s is %s and its charge was not refunded", id, o.Status)
		}
	}
	return v.done()
}

// RunOrders checks that every order answered 201 was stored.
func RunOrders(s Snapshot, run map[string]scenario.OrderRecord) Result {
	if s.Orders == nil {
		return skipped(NameRunOrders, "needs the orders database")
	}
	v := newVerdict(NameRunOrders)
	v.judge(len(run))
	for _, id := range sortedKeys(run) {
		if _, ok := s.Orders[id]; !ok {
			v.fail("order %s of ticket %s not stored", id, run[id].TicketID)
		}
	}
	return v.done()
}

// Outboxes finds records whose events the relay has not published.
func Outboxes(s Snapshot) Result {
	if s.Tickets == nil && s.Orders == nil && s.PayOrders == nil {
		return skipped(NameOutboxes, "needs a database")
	}
	v := newVerdict(NameOutboxes)
	count := func(what, id string, n int) {
		v.judge(1)
		if n > 0 {
			v.fail("%s %s has %d unpublished events", what, id, n)
		}
	}
	for _, id := range sortedKeys(s.Tickets) {
		count("ticket", id, s.Tickets[id].Outbox)
	}
	for _, id := range sortedKeys(s.Orders) {
		count("order", id, s.Orders[id].Outbox)
	}
	for _, id := range sortedKeys(s.PayOrders) {
		count("payments' order", id, s.PayOrders[id].Outbox)
	}
	for _, c := range s.Charges {
		count("charge", c.ID, c.Outbox)
	}
	return v.done()
}

// Edits checks the tickets whose final state the run knows (the edits
// scenario's price 15, version 2) in both services.
func Edits(s Snapshot, run map[string]scenario.TicketRecord) Result {
	if s.Tickets == nil {
		return skipped(NameEdits, "needs the tickets database")
	}
	v := newVerdict(NameEdits)
	for _, id := range sortedKeys(run) {
		want := run[id]
		if want.WantPrice == 0 {
			continue
		}
		v.judge(1)
		okIn := func(t Ticket) bool {
			return t.Price == want.WantPrice && (want.WantVersion < 0 || t.Version == want.WantVersion)
		}
		t, ok := s.Tickets[id]
		if !ok || !okIn(t) {
			v.fail("ticket %s in tickets: v%d price %v, want v%d price %v", id, t.Version, t.Price, want.WantVersion, want.WantPrice)
			continue
		}
		if s.Replica == nil {
			continue
		}
		if r, ok := s.Replica[id]; !ok || !okIn(r) {
			v.fail("ticket %s in orders: v%d price %v, want v%d price %v", id, r.Version, r.Price, want.WantVersion, want.WantPrice)
		}
	}
	return v.done()
}
