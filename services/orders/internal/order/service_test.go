package order_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/events"
	"github.com/ticketing/services/orders/internal/order"
)

// memOrders is a fake for the rules; the real store runs against FerretDB
// in the app tests. interfere, when set, runs before each Transition and may
// change the stored order, as a concurrent writer would.
type memOrders struct {
	mu        sync.Mutex
	orders    map[string]order.Order
	events    []events.Payload
	interfere func(stored *order.Order)
	// refused, when set, runs (with the lock held) after an insert is
	// refused, as another writer acting right after would.
	refused  func()
	attempts int
}

func (m *memOrders) Insert(_ context.Context, o order.Order, evs ...events.Payload) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, other := range m.orders {
		if other.ReservationKey() == o.ReservationKey() {
			if m.refused != nil {
				m.refused()
			}
			return order.ErrTicketReserved
		}
	}
	m.orders[o.ID] = o
	m.events = append(m.events, evs...)
	return nil
}

func (m *memOrders) Get(_ context.Context, id string) (order.Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[id]
	if !ok {
		return order.Order{}, errs.ErrNotFound
	}
	return o, nil
}

func (m *memOrders) ListByUser(_ context.Context, userID string) ([]order.Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []order.Order
	for _, o := range m.orders {
		if o.UserID == userID {
			out = append(out, o)
		}
	}
	return out, nil
}

func (m *memOrders) Transition(_ context.Context, from, next order.Order, evs ...events.Payload) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.attempts++
	stored := m.orders[from.ID]
	if m.interfere != nil {
		m.interfere(&stored)
		m.orders[from.ID] = stored
	}
	if stored.Version != from.Version {
		return errs.Wrap(errs.ErrConflict, fmt.Errorf("at %d, not %d", stored.Version, from.Version))
	}
	m.orders[from.ID] = next
	m.events = append(m.events, evs...)
	return nil
}

type memTickets struct {
	mu      sync.Mutex
	tickets map[string]order.Ticket
	fail    error // when set, Apply fails with it
}

func (m *memTickets) Get(_ context.Context, id string) (order.Ticket, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tickets[id]
	if !ok {
		return order.Ticket{}, errs.ErrNotFound
	}
	return t, nil
}

func (m *memTickets) GetMany(_ context.Context, ids []string) (map[string]order.Ticket, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]order.Ticket{}
	for _, id := range ids {
		if t, ok := m.tickets[id]; ok {
			out[id] = t
		}
	}
	return out, nil
}

// Apply keeps the newest version, as the real store does (its rule is
// tested in common/mongox and over FerretDB in the store and app tests).
func (m *memTickets) Apply(_ context.Context, t order.Ticket) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return false, m.fail
	}
	if cur, ok := m.tickets[t.ID]; ok && cur.Version >= t.Version {
		return false, nil
	}
	m.tickets[t.ID] = t
	return true, nil
}

type fixture struct {
	svc      *order.Service
	orders   *memOrders
	holds    *memHolds
	tickets  *memTickets
	notified []string // ids the relay was woken for
	now      time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		orders:  &memOrders{orders: map[string]order.Order{}},
		holds:   &memHolds{last: map[string]order.Hold{}},
		tickets: &memTickets{tickets: map[string]order.Ticket{ticketID: {ID: ticketID, Title: "concert", Price: 20, Version: 0}}},
		now:     time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	svc, err := order.NewService(order.Config{
		Orders: f.orders, Tickets: f.tickets, Holds: f.holds, Window: time.Minute,
		Notify: func(ids ...string) { f.notified = append(f.notified, ids...) },
		Now:    func() time.Time { return f.now },
	})
	require.NoError(t, err)
	f.svc = svc
	return f
}

func TestNewServiceChecksConfig(t *testing.T) {
	_, err := order.NewService(order.Config{})
	assert.Error(t, err)
	_, err = order.NewService(order.Config{Orders: &memOrders{}, Tickets: &memTickets{}, Holds: &memHolds{}, Window: -time.Second})
	assert.Error(t, err)
	_, err = order.NewService(order.Config{Orders: &memOrders{}, Tickets: &memTickets{}})
	assert.Error(t, err, "without the holds")
}

func TestReserve(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)

	_, err := f.svc.Reserve(ctx, userID, "00000000000000000000dead")
	assert.ErrorIs(t, err, errs.ErrNotFound, "unknown ticket")

	o, err := f.svc.Reserve(ctx, userID, ticketID)
	require.NoError(t, err)
	assert.Equal(t, order.StatusCreated, o.Status)
	assert.Equal(t, f.now.Add(time.Minute), o.ExpiresAt)
	assert.Equal(t, order.Ticket{ID: ticketID, Title: "concert", Price: 20}, o.Ticket)
	assert.Equal(t, []events.Payload{o.CreatedEvent()}, f.orders.events, "order:created stored with the order")
	assert.Equal(t, []string{o.ID}, f.notified, "the relay is woken for the order")

	_, err = f.svc.Reserve(ctx, "00000000000000000000000e", ticketID)
	assert.ErrorIs(t, err, order.ErrTicketReserved)
	assert.Equal(t, []string{o.ID}, f.notified)
}

func TestGetForUserChecksExistenceThenOwner(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	o, err := f.svc.Reserve(ctx, userID, ticketID)
	require.NoError(t, err)
	f.tickets.tickets[ticketID] = order.Ticket{ID: ticketID, Title: "renamed", Price: 30, Version: 1}

	got, err := f.svc.GetForUser(ctx, userID, o.ID)
	require.NoError(t, err)
	assert.Equal(t, order.Ticket{ID: ticketID, Title: "renamed", Price: 30, Version: 1}, got.Ticket,
		"the ticket as the replica has it now")

	_, err = f.svc.GetForUser(ctx, "00000000000000000000000e", o.ID)
	assert.ErrorIs(t, err, errs.ErrNotAuthorized)
	_, err = f.svc.GetForUser(ctx, "00000000000000000000000e", "00000000000000000000dead")
	assert.ErrorIs(t, err, errs.ErrNotFound, "404 before 401")
}

// A conflict means the order changed under us; the service reads it again
// and decides again, so the rule sees the order as it is now.
func TestCancelRereadsAfterConflict(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		interfere  func(*order.Order)
		wantErr    error
		wantStatus order.Status
		wantEvents int // order:cancelled events stored
	}{
		{
			name:       "a payment landed first: cannot cancel",
			interfere:  func(o *order.Order) { *o, _ = o.Complete() },
			wantErr:    order.ErrCancelCompleted,
			wantStatus: order.StatusComplete,
		},
		{
			name:       "another cancel landed first: nothing more to do",
			interfere:  func(o *order.Order) { *o, _ = o.Expire() },
			wantStatus: order.StatusCancelled,
		},
		{
			name:       "an unrelated version bump: cancel on top of it",
			interfere:  func(o *order.Order) { o.Version++ },
			wantStatus: order.StatusCancelled,
			wantEvents: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			o, err := f.svc.Reserve(ctx, userID, ticketID)
			require.NoError(t, err)
			f.orders.events = nil
			once := sync.Once{}
			f.orders.interfere = func(s *order.Order) { once.Do(func() { tt.interfere(s) }) }

			err = f.svc.CancelForUser(ctx, userID, o.ID)
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
			} else {
				assert.NoError(t, err)
			}
			assert.Equal(t, tt.wantStatus, f.orders.orders[o.ID].Status)
			assert.Len(t, f.orders.events, tt.wantEvents)
			for _, ev := range f.orders.events {
				assert.Equal(t, f.orders.orders[o.ID].Version, ev.(events.OrderCancelled).Version,
					"the event carries the stored version")
			}
		})
	}
}

func TestCancelGivesUpOnEndlessConflicts(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	o, err := f.svc.Reserve(ctx, userID, ticketID)
	require.NoError(t, err)
	f.orders.interfere = func(s *order.Order) { s.Version++ }
	err = f.svc.CancelForUser(ctx, userID, o.ID)
	assert.ErrorIs(t, err, errs.ErrConflict)
	assert.Equal(t, 5, f.orders.attempts, "bounded retries")
}

func TestCancelRefusals(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	o, err := f.svc.Reserve(ctx, userID, ticketID)
	require.NoError(t, err)

	assert.ErrorIs(t, f.svc.CancelForUser(ctx, userID, "00000000000000000000dead"), errs.ErrNotFound)
	assert.ErrorIs(t, f.svc.CancelForUser(ctx, "00000000000000000000000e", o.ID), errs.ErrNotAuthorized)

	require.NoError(t, f.svc.CancelForUser(ctx, userID, o.ID))
	require.NoError(t, f.svc.CancelForUser(ctx, userID, o.ID), "cancelling twice is fine")
	assert.Len(t, f.orders.events, 2, "order:created and one order:cancelled")
	assert.Equal(t, []string{o.ID, o.ID}, f.notified)

	o2, err := f.svc.Reserve(ctx, userID, ticketID)
	require.NoError(t, err, "a cancelled order frees the ticket")
	require.NoError(t, f.svc.CompletePayment(ctx, o2.ID))
	assert.ErrorIs(t, f.svc.CancelForUser(ctx, userID, o2.ID), order.ErrCancelCompleted)
}

func TestExpireAndComplete(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	assert.ErrorIs(t, f.svc.Expire(ctx, "00000000000000000000dead"), errs.ErrNotFound)
	assert.ErrorIs(t, f.svc.CompletePayment(ctx, "00000000000000000000dead"), errs.ErrNotFound)

	o, err := f.svc.Reserve(ctx, userID, ticketID)
	require.NoError(t, err)
	require.NoError(t, f.svc.CompletePayment(ctx, o.ID))
	require.NoError(t, f.svc.CompletePayment(ctx, o.ID), "a second payment event changes nothing")
	require.NoError(t, f.svc.Expire(ctx, o.ID), "expiring a paid order changes nothing")
	got := f.orders.orders[o.ID]
	assert.Equal(t, order.StatusComplete, got.Status)
	assert.Equal(t, int64(1), got.Version)
	assert.Len(t, f.orders.events, 1, "only order:created; completing publishes nothing")
}

func TestApplyTicket(t *testing.T) {
	ctx := context.Background()
	const id = "00000000000000000000abcd"
	v := func(n int64) order.Ticket {
		return order.Ticket{ID: id, Title: fmt.Sprint("v", n), Price: float64(10 + n), Version: n}
	}

	f := newFixture(t)
	require.NoError(t, f.svc.ApplyTicket(ctx, v(2)), "an update before its create is applied")
	require.NoError(t, f.svc.ApplyTicket(ctx, v(1)), "an older one is acked")
	require.NoError(t, f.svc.ApplyTicket(ctx, v(0)), "so is the create")
	assert.Equal(t, v(2), f.tickets.tickets[id])

	// A store failure is the one thing left for redelivery.
	down := errors.New("store down")
	f.tickets.fail = down
	assert.ErrorIs(t, f.svc.ApplyTicket(ctx, v(3)), down)
}
