package app_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/ticketing/common/events"
)

// edit is one PUT's outcome.
type edit struct {
	status int
	body   string
	price  float64
	tk     ticketJSON
	err    error
}

// racePUTs sends n edits of tk at the same moment, edit i setting price i+1.
func (s *service) racePUTs(t *testing.T, u user, tk ticketJSON, n int) []edit {
	t.Helper()
	out := make([]edit, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			price := float64(i + 1)
			r, err := s.try(u, "PUT", "/api/tickets/"+tk.ID, fmt.Sprintf(`{"title":"edit %d","price":%v}`, i, price))
			out[i] = edit{status: r.status, body: r.body, price: price, err: err}
		})
	}
	close(start)
	wg.Wait()
	for i := range out {
		require.NoError(t, out[i].err)
		if out[i].status == http.StatusOK {
			out[i].tk = decode[ticketJSON](t, response{status: out[i].status, body: out[i].body})
		}
	}
	return out
}

// Many concurrent edits of one ticket by its owner: every success is its
// own version, none is lost, and each is announced exactly once with the
// values it stored.
func TestConcurrentEditsOfOneTicket(t *testing.T) {
	const racers = 24
	s := startService(t)
	seller := newUser(t)
	tk := s.create(t, seller, "concert", 5)

	edits := s.racePUTs(t, seller, tk, racers)
	byVersion := map[int64]edit{}
	for _, e := range edits {
		if e.status == http.StatusConflict {
			continue // allowed under contention, though the retries make it rare
		}
		require.Equal(t, http.StatusOK, e.status, e.body)
		_, dup := byVersion[e.tk.Version]
		require.False(t, dup, "version %d was given to two edits", e.tk.Version)
		assert.Equal(t, e.price, e.tk.Price)
		byVersion[e.tk.Version] = e
	}
	successes := len(byVersion)
	require.Positive(t, successes)
	t.Logf("%d of %d edits succeeded", successes, racers)

	final := decode[ticketJSON](t, s.do(t, user{}, "GET", "/api/tickets/"+tk.ID, ""))
	assert.Equal(t, int64(successes), final.Version, "final version = number of successful edits")
	assert.Equal(t, byVersion[final.Version].price, final.Price, "the last version holds the last edit's price")

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Len(c, s.updatedOf(tk.ID), successes)
	}, waitFor, tick)
	got := map[int64]int{}
	for _, ev := range s.updatedOf(tk.ID) {
		got[ev.Version]++
		e, ok := byVersion[ev.Version]
		if assert.True(t, ok, "event for version %d that no edit returned", ev.Version) {
			assert.Equal(t, e.price, ev.Price, "version %d's event carries that edit's price", ev.Version)
			assert.Equal(t, e.tk.Title, ev.Title)
		}
	}
	for v := int64(1); v <= int64(successes); v++ {
		assert.Equal(t, 1, got[v], "exactly one ticket:updated for version %d", v)
	}
}

// Edits racing a reservation: an edit either lands before the reservation
// or is refused with "Cannot edit a reserved ticket"; none lands after it.
func TestEditsRacingAReservation(t *testing.T) {
	const racers = 16
	s := startService(t)
	seller := newUser(t)
	tk := s.create(t, seller, "concert", 5)
	order := primitive.NewObjectID().Hex()

	published := make(chan error, 1)
	go func() {
		published <- s.orders.PublishEvent(context.Background(), events.OrderCreated{
			ID: order, Status: events.OrderStatusCreated, UserID: primitive.NewObjectID().Hex(),
			ExpiresAt: time.Now().Add(time.Minute), Ticket: events.OrderCreatedTicket{ID: tk.ID, Price: 5},
		})
	}()
	edits := s.racePUTs(t, seller, tk, racers)
	require.NoError(t, <-published)

	var landed []int64
	for _, e := range edits {
		switch e.status {
		case http.StatusOK:
			landed = append(landed, e.tk.Version)
		case http.StatusBadRequest:
			assert.JSONEq(t, `{"errors":[{"message":"Cannot edit a reserved ticket"}]}`, e.body)
		case http.StatusConflict:
		default:
			t.Errorf("unexpected answer %d %s", e.status, e.body)
		}
	}

	var final ticketJSON
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		final = ticketJSON{}
		r, err := s.try(user{}, "GET", "/api/tickets/"+tk.ID, "")
		require.NoError(c, err)
		require.NoError(c, jsonUnmarshal(r.body, &final))
		assert.NotNil(c, final.OrderID)
	}, waitFor, tick)
	assert.Equal(t, order, *final.OrderID)
	assert.Equal(t, int64(len(landed)+1), final.Version, "every landed edit plus the reservation")
	for _, v := range landed {
		assert.Less(t, v, final.Version, "no edit landed after the reservation")
	}

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Len(c, s.updatedOf(tk.ID), int(final.Version))
	}, waitFor, tick)
	evs := s.updatedOf(tk.ID)
	for i, ev := range evs {
		assert.Equal(t, int64(i+1), ev.Version, "published in version order, none missing")
	}
	assert.Equal(t, order, evs[len(evs)-1].OrderID, "the last event is the reservation")
}
