package scenario

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ticketing/tools/loadgen/client"
)

// rushTicket is what the rush knows of one ticket's sale.
type rushTicket struct {
	id string
	// order is the last order that won it and whether it was paid; nil
	// while nobody holds it.
	order  *client.Order
	paid   bool
	soldAt time.Time // zero until its order was seen complete
	// lapsing is set when the holder will not pay (or paid too late): a
	// waiting buyer takes the ticket once the hold has lapsed.
	lapsing bool
	// backSeen is set once the ticket was seen on sale after a lapse.
	backSeen bool
	// doubled names the orders already reported in a double sale, so
	// that one pair is reported once.
	doubled map[string]bool
}

// rushBook is the rush's view of every ticket, shared by the buyers.
type rushBook struct {
	mu      sync.Mutex
	tickets map[string]*rushTicket
	wins    atomic.Int64
}

// won records a 201 for ticket id. A second winner while the first holds
// the ticket (its order complete, or its hold not yet over) is a double
// sale. A first order that was paid but not yet seen complete is not
// judged here: a payment accepted just before expiresAt can lose to the
// hold's end, and then payments refunds it; if that order completes after
// all, sold reports the double sale.
func (b *rushBook) won(id string, o client.Order, now time.Time) (double string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.tickets[id]
	if prev := t.order; prev != nil && (!t.soldAt.IsZero() || now.Before(prev.ExpiresAt)) {
		double = fmt.Sprintf("double sale: ticket %s won by order %s while order %s held it (complete %v, expiresAt %s)",
			id, o.ID, prev.ID, !t.soldAt.IsZero(), prev.ExpiresAt.Format(time.RFC3339Nano))
		if t.doubled == nil {
			t.doubled = map[string]bool{}
		}
		t.doubled[prev.ID] = true
	}
	t.order, t.paid, t.lapsing, t.backSeen, t.soldAt = &o, false, false, false, time.Time{}
	return double
}

// sold records that order orderID for ticket id was seen complete at at.
// If another order has won the ticket since, both hold it: a double sale,
// unless won reported this pair already.
func (b *rushBook) sold(id, orderID string, at time.Time) (double string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.tickets[id]
	if t.order != nil && t.order.ID != orderID && !t.doubled[orderID] {
		return fmt.Sprintf("double sale: order %s for ticket %s completed after order %s won the ticket",
			orderID, id, t.order.ID)
	}
	t.soldAt = at
	return ""
}

func (b *rushBook) update(id string, f func(t *rushTicket)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f(b.tickets[id])
}
