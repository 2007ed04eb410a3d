package ticket_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/events"
	"github.com/ticketing/services/tickets/internal/ticket"
)

// memStore is a fake for the service's retry logic; the real store has its
// own tests over FerretDB. Before each Update, meddle may change the stored
// ticket, as a concurrent writer would.
type memStore struct {
	mu      sync.Mutex
	tickets map[string]ticket.Ticket
	meddle  func(stored *ticket.Ticket)
	updates int
	events  []events.Payload
	// lostAnswer makes the next write store and then fail, as a write whose
	// answer the database never sent back.
	lostAnswer error
}

func (m *memStore) Insert(_ context.Context, t ticket.Ticket, evs ...events.Payload) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tickets[t.ID] = t
	m.events = append(m.events, evs...)
	return m.answer()
}

func (m *memStore) answer() error {
	err := m.lostAnswer
	m.lostAnswer = nil
	return err
}

func (m *memStore) Get(_ context.Context, id string) (ticket.Ticket, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tickets[id]
	if !ok {
		return ticket.Ticket{}, errs.ErrNotFound
	}
	return t, nil
}

func (m *memStore) Update(_ context.Context, t ticket.Ticket, evs ...events.Payload) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.updates++
	stored := m.tickets[t.ID]
	if m.meddle != nil {
		m.meddle(&stored)
		m.tickets[t.ID] = stored
	}
	if stored.Version != t.Version-1 {
		return errs.ErrConflict
	}
	m.tickets[t.ID] = t
	m.events = append(m.events, evs...)
	return m.answer()
}

func (m *memStore) List(context.Context, ticket.Page) ([]ticket.Ticket, error) { return nil, nil }
func (m *memStore) ListByOwner(context.Context, string, ticket.Page) ([]ticket.Ticket, error) {
	return nil, nil
}

func TestEditRetriesAfterAConflict(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		meddle  func(n *int) func(*ticket.Ticket)
		wantErr error
		want    int64 // version after the edit
	}{
		{"a concurrent edit: read again and apply on top", func(n *int) func(*ticket.Ticket) {
			return func(s *ticket.Ticket) {
				if *n++; *n == 1 {
					s.Version++
					s.Title = "edited meanwhile"
				}
			}
		}, nil, 5},
		{"reserved meanwhile: the rule now refuses", func(n *int) func(*ticket.Ticket) {
			return func(s *ticket.Ticket) {
				if *n++; *n == 1 {
					s.Version++
					s.OrderID = orderA
				}
			}
		}, ticket.ErrReserved, 0},
		{"never settles: a conflict after many tries", func(*int) func(*ticket.Ticket) {
			return func(s *ticket.Ticket) { s.Version++ }
		}, errs.ErrConflict, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &memStore{tickets: map[string]ticket.Ticket{forSale().ID: forSale()}}
			var n int
			store.meddle = tt.meddle(&n)
			svc := ticket.NewService(store)
			got, err := svc.Edit(ctx, forSale().ID, owner, ticket.Draft{Title: "mine", Price: 30})
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.Version)
			assert.Equal(t, "mine", got.Title)
			stored, _ := store.Get(ctx, forSale().ID)
			assert.Equal(t, got, stored)
		})
	}
}

func TestServiceReserveIsIdempotent(t *testing.T) {
	ctx := context.Background()
	store := &memStore{tickets: map[string]ticket.Ticket{forSale().ID: forSale()}}
	svc := ticket.NewService(store)

	_, changed, err := svc.Reserve(ctx, forSale().ID, orderA, time.Time{})
	require.NoError(t, err)
	assert.True(t, changed)
	_, changed, err = svc.Reserve(ctx, forSale().ID, orderA, time.Time{})
	require.NoError(t, err)
	assert.False(t, changed)
	assert.Equal(t, 1, store.updates, "a repeat writes nothing")

	_, _, err = svc.Reserve(ctx, "0000000000000000000000ff", orderA, time.Time{})
	assert.ErrorIs(t, err, errs.ErrNotFound)
	_, _, err = svc.Release(ctx, "0000000000000000000000ff", orderA)
	assert.ErrorIs(t, err, errs.ErrNotFound)
}

// Every write that stored, or may have stored, events wakes the relay; a
// refused one (a version conflict) does not, since it stored nothing.
func TestWritesWakeTheRelay(t *testing.T) {
	ctx := context.Background()
	lost := errors.New("connection reset after the write")
	store := &memStore{tickets: map[string]ticket.Ticket{}}
	var woken []string
	svc := ticket.NewService(store, ticket.WithNotify(func(ids ...string) { woken = append(woken, ids...) }))

	created, err := svc.Create(ctx, owner, ticket.Draft{Title: "concert", Price: 20})
	require.NoError(t, err)
	assert.Equal(t, []string{created.ID}, woken)
	assert.Equal(t, []events.Payload{created.CreatedEvent()}, store.events, "the ticket:created the domain built")

	edited, err := svc.Edit(ctx, created.ID, owner, ticket.Draft{Title: "opera", Price: 25})
	require.NoError(t, err)
	assert.Equal(t, []string{created.ID, created.ID}, woken)
	assert.Equal(t, edited.UpdatedEvent(), store.events[1])

	store.lostAnswer = lost
	_, err = svc.Create(ctx, owner, ticket.Draft{Title: "lost", Price: 1})
	require.ErrorIs(t, err, lost)
	assert.Len(t, woken, 3, "an answer lost after the write still wakes the relay")

	store.meddle = func(s *ticket.Ticket) { s.Version++ } // every try conflicts
	_, err = svc.Edit(ctx, created.ID, owner, ticket.Draft{Title: "never", Price: 2})
	require.ErrorIs(t, err, errs.ErrConflict)
	assert.Len(t, woken, 3, "refused writes store nothing and wake nobody")
}
