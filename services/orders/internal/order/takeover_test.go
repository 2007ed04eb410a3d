package order_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/events"
	"github.com/ticketing/services/orders/internal/order"
)

// memHolds is the hint store: the last hold by ticket.
type memHolds struct {
	mu   sync.Mutex
	last map[string]order.Hold
}

func (m *memHolds) Remember(_ context.Context, ticketID, orderID string, until time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last[ticketID] = order.Hold{OrderID: orderID, Until: until}
	return nil
}

func (m *memHolds) Last(_ context.Context, ticketID string) (order.Hold, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h, ok := m.last[ticketID]
	return h, ok, nil
}

// A buyer who loses to a hold learns from the hint, by the ticket's id,
// whether the holder's time is up. Where the hint does not say so (none
// yet, or a stale one of an earlier hold, while the new holder's hint is
// on its way) the ticket is held by right and the holder left alone; only
// a hint naming the holder itself, past its time, ends the hold. A hinted
// holder cancelled by another path since the insert failed leaves the
// ticket free, and one more insert takes it.
func TestLostRaceReadsTheHoldHint(t *testing.T) {
	ctx := context.Background()
	const next, earlier = "00000000000000000000000e", "00000000000000000000000f"
	tests := []struct {
		name     string
		hint     func(f *fixture, holder order.Order)
		at       time.Duration // from the holder's expiresAt
		takeover bool
	}{
		{"the hint says the hold runs", func(*fixture, order.Order) {}, -time.Millisecond, false},
		{"no hint yet", func(f *fixture, _ order.Order) { delete(f.holds.last, ticketID) }, -time.Millisecond, false},
		{"a stale hint of an earlier, cancelled hold", func(f *fixture, holder order.Order) {
			old := holder
			old.ID, old.ExpiresAt = earlier, holder.ExpiresAt.Add(-time.Hour)
			old, _ = old.Expire()
			f.orders.orders[earlier] = old
			f.holds.last[ticketID] = order.Hold{OrderID: earlier, Until: old.ExpiresAt}
		}, -time.Millisecond, false},
		{"no hint, the holder's time up", func(f *fixture, _ order.Order) { delete(f.holds.last, ticketID) }, time.Millisecond, false},
		{"the hint names the holder, its time up", func(*fixture, order.Order) {}, time.Millisecond, true},
		{"the holder cancelled by its timer right after the insert failed", func(f *fixture, holder order.Order) {
			once := sync.Once{}
			f.orders.refused = func() {
				once.Do(func() {
					cancelled, _ := f.orders.orders[holder.ID].Expire()
					f.orders.orders[holder.ID] = cancelled
					f.orders.events = append(f.orders.events, cancelled.CancelledEvent())
				})
			}
		}, time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			holder, err := f.svc.Reserve(ctx, userID, ticketID)
			require.NoError(t, err)
			assert.Equal(t, order.Hold{OrderID: holder.ID, Until: holder.ExpiresAt}, f.holds.last[ticketID], "the reservation is remembered")
			tt.hint(f, holder)
			f.now = holder.ExpiresAt.Add(tt.at)

			_, err = f.svc.Reserve(ctx, next, ticketID)
			if tt.takeover {
				require.NoError(t, err)
				assert.Equal(t, order.StatusCancelled, f.orders.orders[holder.ID].Status)
				assert.Len(t, f.orders.cancelledOf(holder.ID), 1, "cancelled exactly once")
				return
			}
			assert.ErrorIs(t, err, order.ErrTicketReserved)
			assert.Equal(t, order.StatusCreated, f.orders.orders[holder.ID].Status)
			assert.Empty(t, f.orders.cancelledOf(holder.ID))
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
		Orders: f.orders, Tickets: f.tickets, Holds: f.holds, Window: time.Minute,
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
