package app_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/ticketing/common/events"
)

// DELETE /api/tickets/:id: the owner takes an unheld ticket off sale; it
// is then unknown to every route and its ticket:updated says withdrawn.
func TestWithdrawTicket(t *testing.T) {
	s := startService(t)
	seller, stranger := newUser(t), newUser(t)
	mine := s.create(t, seller, "concert", 20)
	held := s.create(t, seller, "opera", 30)
	s.reserve(t, held)

	tests := []struct {
		name   string
		who    user
		path   string
		status int
		want   string
	}{
		{"anonymous", user{}, "/api/tickets/" + mine.ID, 401, notAuthorized},
		{"malformed id", seller, "/api/tickets/nope", 400, badID},
		{"unknown", seller, "/api/tickets/" + primitive.NewObjectID().Hex(), 404, notFound},
		{"held", seller, "/api/tickets/" + held.ID, 400, `{"errors":[{"message":"Cannot withdraw a reserved ticket"}]}`},
		{"not the owner", stranger, "/api/tickets/" + mine.ID, 401, notAuthorized},
		{"the owner", seller, "/api/tickets/" + mine.ID, 204, ""},
		{"again", seller, "/api/tickets/" + mine.ID, 404, notFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, tt.who, "DELETE", tt.path, "")
			assert.Equal(t, tt.status, r.status, r.body)
			if tt.want == "" {
				assert.Empty(t, r.body)
			} else {
				assert.JSONEq(t, tt.want, r.body)
			}
		})
	}

	assert.Equal(t, 404, s.do(t, user{}, "GET", "/api/tickets/"+mine.ID, "").status)
	assert.Equal(t, 404, s.do(t, seller, "PUT", "/api/tickets/"+mine.ID, `{"title":"x","price":1}`).status)
	r := s.do(t, user{}, "GET", "/api/tickets", "")
	assert.NotContains(t, r.body, mine.ID, "off the list")
	r = s.do(t, seller, "GET", "/api/tickets/mine", "")
	assert.NotContains(t, r.body, mine.ID, "off My listings")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Contains(c, s.updatedOf(mine.ID), events.TicketUpdated{
			ID: mine.ID, Version: 1, Title: "concert", Price: 20, UserID: seller.id, Withdrawn: true,
		})
	}, waitFor, tick, "ticket:updated tells the replicas")
}
