package order_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/events"
	"github.com/ticketing/services/orders/internal/order"
)

// Holder finds the active order by its reservation key, as the store's
// unique index does.
func (m *memOrders) Holder(_ context.Context, ticketID string) (order.Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.holderSearches++
	for _, o := range m.orders {
		if o.ReservationKey() == ticketID {
			return o, nil
		}
	}
	return order.Order{}, errs.ErrNotFound
}

// memHolds is the hint store: the last hold's end by ticket.
type memHolds struct {
	mu    sync.Mutex
	until map[string]time.Time
}

func (m *memHolds) Remember(_ context.Context, ticketID, _ string, until time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.until[ticketID] = until
	return nil
}

func (m *memHolds) Until(_ context.Context, ticketID string) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.until[ticketID], nil
}

// A buyer who loses to a running hold is told so from the hint, by the
// ticket's id, without a search of the orders for the holder; without the
// hint (lost, or never written) the search decides, with the same answer.
func TestLostRaceReadsTheHoldHint(t *testing.T) {
	ctx := context.Background()
	const next = "00000000000000000000000e"
	tests := []struct {
		name         string
		hint         func(f *fixture, first order.Order)
		wantSearches int
	}{
		{"the hint says the hold runs", func(*fixture, order.Order) {}, 0},
		{"no hint", func(f *fixture, _ order.Order) { delete(f.holds.until, ticketID) }, 1},
		{"a stale hint of an earlier hold", func(f *fixture, first order.Order) {
			f.holds.until[ticketID] = first.ExpiresAt.Add(-time.Hour)
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			first, err := f.svc.Reserve(ctx, userID, ticketID)
			require.NoError(t, err)
			assert.Equal(t, first.ExpiresAt, f.holds.until[ticketID], "the reservation is remembered")
			tt.hint(f, first)
			f.now = first.ExpiresAt.Add(-time.Millisecond)

			_, err = f.svc.Reserve(ctx, next, ticketID)
			assert.ErrorIs(t, err, order.ErrTicketReserved)
			assert.Equal(t, tt.wantSearches, f.orders.holderSearches)
			assert.Equal(t, order.StatusCreated, f.orders.orders[first.ID].Status)
		})
	}
}

// cancelledOf is the order:cancelled events stored for id.
func (m *memOrders) cancelledOf(id string) []events.OrderCancelled {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []events.OrderCancelled
	for _, ev := range m.events {
		if c, ok := ev.(events.OrderCancelled); ok && c.ID == id {
			out = append(out, c)
		}
	}
	return out
}

func TestLapsed(t *testing.T) {
	o := sample(order.StatusCreated, 0)
	tests := []struct {
		name   string
		status order.Status
		now    time.Time
		want   bool
	}{
		{"created, a millisecond before expiresAt", order.StatusCreated, o.ExpiresAt.Add(-time.Millisecond), false},
		{"created, at expiresAt (payments refuses from then on)", order.StatusCreated, o.ExpiresAt, true},
		{"created, after expiresAt", order.StatusCreated, o.ExpiresAt.Add(time.Millisecond), true},
		{"awaiting payment, after expiresAt", order.StatusAwaitingPayment, o.ExpiresAt.Add(time.Hour), true},
		{"paid: the buyer's for good", order.StatusComplete, o.ExpiresAt.Add(time.Hour), false},
		{"cancelled already", order.StatusCancelled, o.ExpiresAt.Add(time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, sample(tt.status, 0).Lapsed(tt.now))
		})
	}
}

// A hold past its expiresAt gives way to the next buyer even before its
// timer has fired: it is cancelled as the timer would cancel it (one
// version up, order:cancelled, the ticket freed) and the new order stored.
func TestReserveTakesOverLapsedHold(t *testing.T) {
	ctx := context.Background()
	const next = "00000000000000000000000e"
	tests := []struct {
		name     string
		after    time.Duration // from the first order's expiresAt
		paid     bool
		takeover bool
	}{
		{"a millisecond before expiresAt", -time.Millisecond, false, false},
		{"at expiresAt", 0, false, true},
		{"a millisecond after", time.Millisecond, false, true},
		{"long after", time.Hour, false, true},
		{"paid, long after", time.Hour, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			first, err := f.svc.Reserve(ctx, userID, ticketID)
			require.NoError(t, err)
			if tt.paid {
				require.NoError(t, f.svc.CompletePayment(ctx, first.ID))
			}
			f.now = first.ExpiresAt.Add(tt.after)
			f.notified = nil
			stored := f.orders.orders[first.ID]

			second, err := f.svc.Reserve(ctx, next, ticketID)
			if !tt.takeover {
				assert.ErrorIs(t, err, order.ErrTicketReserved)
				assert.Equal(t, stored, f.orders.orders[first.ID], "the holder is untouched")
				assert.Empty(t, f.orders.cancelledOf(first.ID))
				assert.Empty(t, f.notified)
				return
			}
			require.NoError(t, err)
			old := f.orders.orders[first.ID]
			assert.Equal(t, order.StatusCancelled, old.Status)
			assert.Equal(t, first.Version+1, old.Version)
			assert.Equal(t, "cancelled:"+first.ID, old.ReservationKey(), "the ticket is freed")
			assert.Equal(t, []events.OrderCancelled{old.CancelledEvent()}, f.orders.cancelledOf(first.ID))
			assert.Equal(t, order.StatusCreated, second.Status)
			assert.Equal(t, f.now.Add(time.Minute), second.ExpiresAt)
			assert.Equal(t, []string{first.ID, second.ID}, f.notified, "the relay is woken for both")

			require.NoError(t, f.svc.Expire(ctx, first.ID), "the timer firing later")
			require.NoError(t, f.svc.CancelForUser(ctx, userID, first.ID), "the buyer cancelling later")
			assert.Len(t, f.orders.cancelledOf(first.ID), 1, "cancelled exactly once")
			assert.Equal(t, order.StatusCreated, f.orders.orders[second.ID].Status)
		})
	}
}

// Whichever of the timer, the buyer's cancel and a takeover comes first
// cancels the hold; the takeover after it only inserts.
func TestTakeoverAfterAnotherCancel(t *testing.T) {
	ctx := context.Background()
	for name, cancel := range map[string]func(f *fixture, id string) error{
		"timer":  func(f *fixture, id string) error { return f.svc.Expire(ctx, id) },
		"buyer":  func(f *fixture, id string) error { return f.svc.CancelForUser(ctx, userID, id) },
		"racing": nil, // the cancel lands between the takeover's read and its write
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			first, err := f.svc.Reserve(ctx, userID, ticketID)
			require.NoError(t, err)
			f.now = first.ExpiresAt.Add(time.Second)
			if cancel != nil {
				require.NoError(t, cancel(f, first.ID))
			} else {
				once := sync.Once{}
				f.orders.interfere = func(s *order.Order) {
					once.Do(func() {
						*s, _ = s.Expire()
						f.orders.events = append(f.orders.events, s.CancelledEvent())
					})
				}
			}

			second, err := f.svc.Reserve(ctx, "00000000000000000000000e", ticketID)
			require.NoError(t, err)
			assert.Len(t, f.orders.cancelledOf(first.ID), 1, "cancelled exactly once")
			assert.Equal(t, int64(1), f.orders.orders[first.ID].Version)
			assert.Equal(t, order.StatusCreated, f.orders.orders[second.ID].Status)
		})
	}
}

// Buyers racing for a lapsed hold: one order is stored, the hold is
// cancelled once, everyone else is told the ticket is reserved.
func TestRacingTakeoversReserveOnce(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	first, err := f.svc.Reserve(ctx, userID, ticketID)
	require.NoError(t, err)
	now := first.ExpiresAt.Add(time.Millisecond)
	svc, err := order.NewService(order.Config{
		Orders: f.orders, Tickets: f.tickets, Window: time.Minute,
		Now: func() time.Time { return now },
	})
	require.NoError(t, err)

	const buyers = 16
	errsOut := make([]error, buyers)
	var wg sync.WaitGroup
	for i := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errsOut[i] = svc.Reserve(ctx, "00000000000000000000000e", ticketID)
		}()
	}
	wg.Wait()
	var won int
	for _, err := range errsOut {
		if err == nil {
			won++
			continue
		}
		assert.ErrorIs(t, err, order.ErrTicketReserved)
	}
	assert.Equal(t, 1, won)
	assert.Len(t, f.orders.cancelledOf(first.ID), 1, "cancelled exactly once")
}
