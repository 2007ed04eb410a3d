package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/mongox"
	"github.com/ticketing/common/testkit"
	"github.com/ticketing/services/tickets/internal/store"
	"github.com/ticketing/services/tickets/internal/ticket"
)

const (
	seller = "000000000000000000000001"
	orderA = "0000000000000000000000a1"
)

func newStore(t *testing.T) *store.Tickets {
	t.Helper()
	s := store.NewTickets(testkit.MongoDB(t))
	require.NoError(t, s.EnsureIndexes(context.Background()))
	require.NoError(t, s.EnsureIndexes(context.Background()), "a second start finds the index in place")
	return s
}

// insert stores tk as a new ticket with its ticket:created, as the service does.
func insert(ctx context.Context, s *store.Tickets, tk ticket.Ticket) (ticket.Ticket, error) {
	tk.ID = primitive.NewObjectID().Hex()
	return tk, s.Insert(ctx, tk, tk.CreatedEvent())
}

// outbox reads a ticket's pending events as stored.
func outbox(t *testing.T, s *store.Tickets, id string) []mongox.OutboxEvent {
	t.Helper()
	oid, err := primitive.ObjectIDFromHex(id)
	require.NoError(t, err)
	var doc struct {
		Outbox []mongox.OutboxEvent `bson:"outbox"`
	}
	require.NoError(t, s.Collection().FindOne(context.Background(), bson.M{"_id": oid}).Decode(&doc))
	return doc.Outbox
}

func payload(t *testing.T, ev mongox.OutboxEvent) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(ev.Data), &m))
	return m
}

func TestInsertCarriesTicketCreated(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	tk, err := insert(ctx, s, ticket.Ticket{Title: "concert", Price: 20.5, UserID: seller})
	require.NoError(t, err)
	assert.True(t, primitive.IsValidObjectID(tk.ID))

	got, err := s.Get(ctx, tk.ID)
	require.NoError(t, err)
	assert.Equal(t, tk, got)

	evs := outbox(t, s, tk.ID)
	require.Len(t, evs, 1)
	assert.Equal(t, "ticket:created", evs[0].Subject)
	assert.Equal(t, map[string]any{"id": tk.ID, "version": 0.0, "title": "concert", "price": 20.5, "userId": seller}, payload(t, evs[0]))
}

func TestUpdateIsVersionedAndCarriesTicketUpdated(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	tk, err := insert(ctx, s, ticket.Ticket{Title: "concert", Price: 20, UserID: seller})
	require.NoError(t, err)

	held, changed := tk.Reserve(orderA)
	require.True(t, changed)
	require.NoError(t, s.Update(ctx, held, held.UpdatedEvent()))
	got, err := s.Get(ctx, tk.ID)
	require.NoError(t, err)
	assert.Equal(t, held, got)

	// A second writer that read version 0 too is refused and writes nothing.
	edited, err := tk.Edit(seller, ticket.Draft{Title: "lost", Price: 1})
	require.NoError(t, err)
	assert.ErrorIs(t, s.Update(ctx, edited, edited.UpdatedEvent()), errs.ErrConflict)
	got, err = s.Get(ctx, tk.ID)
	require.NoError(t, err)
	assert.Equal(t, held, got, "a conflict writes nothing")

	free, changed := held.Release(orderA)
	require.True(t, changed)
	require.NoError(t, s.Update(ctx, free, free.UpdatedEvent()))
	got, err = s.Get(ctx, tk.ID)
	require.NoError(t, err)
	assert.Equal(t, free, got)
	assert.Empty(t, got.OrderID)

	evs := outbox(t, s, tk.ID)
	require.Len(t, evs, 3, "created, reserved, released; the refused edit left nothing")
	assert.Equal(t, []string{"ticket:created", "ticket:updated", "ticket:updated"}, []string{evs[0].Subject, evs[1].Subject, evs[2].Subject})
	assert.Equal(t, map[string]any{"id": tk.ID, "version": 1.0, "title": "concert", "price": 20.0, "userId": seller, "orderId": orderA}, payload(t, evs[1]))
	assert.Equal(t, map[string]any{"id": tk.ID, "version": 2.0, "title": "concert", "price": 20.0, "userId": seller}, payload(t, evs[2]),
		"released: no orderId")

	var raw bson.M
	oid, _ := primitive.ObjectIDFromHex(tk.ID)
	require.NoError(t, s.Collection().FindOne(ctx, bson.M{"_id": oid}).Decode(&raw))
	assert.NotContains(t, raw, "orderId", "released means the field is gone, not null")
}

// The reservation bookkeeping is stored and read back whole, and a list
// that empties goes from the record instead of staying as an empty array.
func TestStandbyAndReleasedOrdersAreStored(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	const orderB = "0000000000000000000000b1"
	tk, err := insert(ctx, s, ticket.Ticket{Title: "concert", Price: 20, UserID: seller})
	require.NoError(t, err)

	held, _ := tk.Reserve(orderA)
	taken, _ := held.Reserve(orderB)
	handedBack, _ := taken.Release(orderB)
	for _, next := range []ticket.Ticket{held, taken, handedBack} {
		require.NoError(t, s.Update(ctx, next, next.UpdatedEvent()))
		got, err := s.Get(ctx, tk.ID)
		require.NoError(t, err)
		assert.Equal(t, next, got)
	}
	assert.Equal(t, orderA, handedBack.OrderID)

	var raw bson.M
	oid, _ := primitive.ObjectIDFromHex(tk.ID)
	require.NoError(t, s.Collection().FindOne(ctx, bson.M{"_id": oid}).Decode(&raw))
	assert.NotContains(t, raw, "standbyOrders")
	assert.Equal(t, bson.A{orderB}, raw["releasedOrders"])
	evs := outbox(t, s, tk.ID)
	require.Len(t, evs, 4)
	assert.Equal(t, orderB, payload(t, evs[2])["orderId"], "taken over: ticket:updated names the new holder")
	assert.Equal(t, orderA, payload(t, evs[3])["orderId"], "handed back")
}

func TestGetUnknown(t *testing.T) {
	s := newStore(t)
	_, err := s.Get(context.Background(), primitive.NewObjectID().Hex())
	assert.ErrorIs(t, err, errs.ErrNotFound)
	_, err = s.Get(context.Background(), "nope")
	assert.ErrorIs(t, err, errs.ErrNotFound)
}

func TestListForSaleNewestFirst(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	var ids []string // oldest first
	for i := range 7 {
		tk, err := insert(ctx, s, ticket.Ticket{Title: fmt.Sprintf("t%d", i), Price: 10, UserID: seller})
		require.NoError(t, err)
		ids = append(ids, tk.ID)
	}
	// Reserve t2 and t5; reserve and release t3.
	for _, i := range []int{2, 3, 5} {
		tk, err := s.Get(ctx, ids[i])
		require.NoError(t, err)
		held, _ := tk.Reserve(orderA)
		require.NoError(t, s.Update(ctx, held, held.UpdatedEvent()))
		if i == 3 {
			free, _ := held.Release(orderA)
			require.NoError(t, s.Update(ctx, free, free.UpdatedEvent()))
		}
	}
	idsOf := func(ts []ticket.Ticket) []string {
		out := make([]string, len(ts))
		for i, tk := range ts {
			out[i] = tk.ID
		}
		return out
	}

	tests := []struct {
		name string
		page ticket.Page
		want []string
	}{
		{"all", ticket.Page{Limit: 100}, []string{ids[6], ids[4], ids[3], ids[1], ids[0]}},
		{"limit", ticket.Page{Limit: 2}, []string{ids[6], ids[4]}},
		{"next page", ticket.Page{Limit: 2, Before: ids[4]}, []string{ids[3], ids[1]}},
		{"cursor on a reserved ticket", ticket.Page{Limit: 2, Before: ids[5]}, []string{ids[4], ids[3]}},
		{"last page", ticket.Page{Limit: 2, Before: ids[1]}, []string{ids[0]}},
		{"past the end", ticket.Page{Limit: 2, Before: ids[0]}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.List(ctx, tt.page)
			require.NoError(t, err)
			assert.Equal(t, tt.want, idsOf(got))
			for _, tk := range got {
				assert.Empty(t, tk.ReleasedOrders, "the list reads only what it shows")
				assert.Empty(t, tk.StandbyOrders)
			}
		})
	}
}
