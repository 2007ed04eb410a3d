package scenario

import (
	"maps"
	"slices"
	"sync"
	"time"
)

// maxExamples bounds the failures and problems kept word for word; the
// counts stay exact.
const maxExamples = 20

// Ledger is what a run did, as far as its HTTP answers tell: the tickets it
// made and what they should end as, the orders it made and what became of
// them, and anything wrong it saw on the way.
type Ledger struct {
	mu       sync.Mutex
	tickets  map[string]TicketRecord
	orders   map[string]OrderRecord
	problems []string
	nProbs   int
	failures []string
	nFails   int
}

// TicketRecord is a ticket the run created.
type TicketRecord struct {
	ID string
	// WantPrice and WantVersion are the state the ticket must end in, if
	// the scenario knows it (edits); WantVersion is -1 when a retried
	// update may have been applied twice, and WantPrice 0 when unknown.
	WantPrice   float64
	WantVersion int64
}

// OrderRecord is an order the run created.
type OrderRecord struct {
	ID        string
	TicketID  string
	ExpiresAt time.Time
	// Paid is true once POST /api/payments answered 201 (or "already paid"
	// after a retry).
	Paid bool
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger {
	return &Ledger{tickets: map[string]TicketRecord{}, orders: map[string]OrderRecord{}}
}

// Ticket records a created ticket, or updates what it should end as.
func (l *Ledger) Ticket(t TicketRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tickets[t.ID] = t
}

// Order records an order, or updates it.
func (l *Ledger) Order(o OrderRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.orders[o.ID] = o
}

// MarkPaid records that an order was paid for.
func (l *Ledger) MarkPaid(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	o := l.orders[id]
	o.ID, o.Paid = id, true
	l.orders[id] = o
}

// Problem records a broken guarantee seen over HTTP (two winners of one
// race, an edit that did not stick). Problems fail the run.
func (l *Ledger) Problem(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.nProbs++
	if len(l.problems) < maxExamples {
		l.problems = append(l.problems, s)
	}
}

// Fail records a flow that could not finish (an unexpected answer, a wait
// that timed out). Failures are reported; the checks decide whether the
// state they left behind is wrong.
func (l *Ledger) Fail(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.nFails++
	if len(l.failures) < maxExamples {
		l.failures = append(l.failures, s)
	}
}

// Tickets returns the recorded tickets.
func (l *Ledger) Tickets() map[string]TicketRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.tickets)
}

// Orders returns the recorded orders.
func (l *Ledger) Orders() map[string]OrderRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.orders)
}

// Problems returns how many problems were seen and the first few.
func (l *Ledger) Problems() (int, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.nProbs, slices.Clone(l.problems)
}

// Failures returns how many flows failed and the first few reasons.
func (l *Ledger) Failures() (int, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.nFails, slices.Clone(l.failures)
}
