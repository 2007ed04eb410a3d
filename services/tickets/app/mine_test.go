package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/ticketing/common/events"
)

// GET /api/tickets/mine: the seller's tickets in every state, newest first,
// paged like the list, with when a hold ends and when a sale happened.
func TestMyListings(t *testing.T) {
	s := startService(t)
	seller, other := newUser(t), newUser(t)
	onSale := s.create(t, seller, "on sale", 10)
	held := s.create(t, seller, "held", 20)
	sold := s.create(t, seller, "sold", 30)
	s.create(t, other, "someone else's", 40)
	s.reserve(t, held)
	order := s.reserve(t, sold)
	require.NoError(t, s.orders.PublishEvent(context.Background(), events.PaymentCreated{
		ID: primitive.NewObjectID().Hex(), OrderID: order, StripeID: "ch_1",
	}))

	type listing struct {
		ID        string `json:"id"`
		Status    string `json:"status"`
		ExpiresAt string `json:"expiresAt"`
		SoldAt    string `json:"soldAt"`
	}
	var all []listing
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		r, err := s.try(seller, "GET", "/api/tickets/mine", "")
		require.NoError(c, err)
		require.Equal(c, 200, r.status, r.body)
		all = nil
		require.NoError(c, jsonUnmarshal(r.body, &all))
		require.Len(c, all, 3)
		assert.Equal(c, "sold", all[0].Status)
	}, waitFor, tick)

	assert.Equal(t, []string{sold.ID, held.ID, onSale.ID}, []string{all[0].ID, all[1].ID, all[2].ID}, "newest first, only the caller's")
	assert.Equal(t, []string{"sold", "reserved", "available"}, []string{all[0].Status, all[1].Status, all[2].Status})
	soldAt, err := time.Parse(time.RFC3339, all[0].SoldAt)
	require.NoError(t, err, "a sold ticket says when")
	assert.WithinDuration(t, time.Now(), soldAt, time.Minute)
	assert.Empty(t, all[0].ExpiresAt)
	holdEnds, err := time.Parse(time.RFC3339, all[1].ExpiresAt)
	require.NoError(t, err, "a reserved ticket says when its hold ends")
	assert.WithinDuration(t, time.Now().Add(15*time.Minute), holdEnds, time.Minute)
	assert.Empty(t, all[1].SoldAt)
	assert.Empty(t, all[2].ExpiresAt+all[2].SoldAt, "a ticket on sale has neither")

	r := s.do(t, seller, "GET", "/api/tickets/mine?limit=2", "")
	require.Equal(t, 200, r.status)
	var page []listing
	require.NoError(t, jsonUnmarshal(r.body, &page))
	assert.Equal(t, []string{sold.ID, held.ID}, []string{page[0].ID, page[1].ID})
	r = s.do(t, seller, "GET", "/api/tickets/mine?limit=2&before="+held.ID, "")
	require.NoError(t, jsonUnmarshal(r.body, &page))
	require.Len(t, page, 1)
	assert.Equal(t, onSale.ID, page[0].ID)

	assert.Equal(t, 401, s.do(t, user{}, "GET", "/api/tickets/mine", "").status, "only for a signed-in seller")
	assert.Equal(t, 400, s.do(t, seller, "GET", "/api/tickets/mine?limit=0", "").status)
	r = s.do(t, other, "GET", "/api/tickets/mine", "")
	require.NoError(t, jsonUnmarshal(r.body, &page))
	assert.Len(t, page, 1)
}
