package order_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/services/orders/internal/order"
)

const (
	orderID  = "00000000000000000000000a"
	userID   = "00000000000000000000000b"
	ticketID = "00000000000000000000000c"
)

func sample(status order.Status, version int64) order.Order {
	return order.Order{
		ID: orderID, UserID: userID, Status: status, Version: version,
		ExpiresAt: time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC),
		Ticket:    order.Ticket{ID: ticketID, Title: "concert", Price: 20.5, Version: 1},
	}
}

func TestNew(t *testing.T) {
	zone := time.FixedZone("UTC+2", 2*3600)
	now := time.Date(2026, 1, 2, 5, 4, 5, 123_456_789, zone)
	o := order.New(orderID, userID, order.Ticket{ID: ticketID, Title: "t", Price: 5}, now, 15*time.Minute)
	assert.Equal(t, order.StatusCreated, o.Status)
	assert.Equal(t, int64(0), o.Version)
	assert.Equal(t, time.Date(2026, 1, 2, 3, 19, 5, 123_000_000, time.UTC), o.ExpiresAt,
		"now + window, in UTC, cut to milliseconds")
	assert.Equal(t, time.UTC, o.ExpiresAt.Location())
}

func TestReservationKey(t *testing.T) {
	tests := []struct {
		status order.Status
		want   string
	}{
		{order.StatusCreated, ticketID},
		{order.StatusAwaitingPayment, ticketID},
		{order.StatusComplete, ticketID},
		{order.StatusCancelled, "cancelled:" + orderID},
	}
	for _, tt := range tests {
		t.Run(string(tt.status), func(t *testing.T) {
			o := sample(tt.status, 0)
			assert.Equal(t, tt.want, o.ReservationKey())
			assert.Equal(t, tt.status != order.StatusCancelled, o.Active())
		})
	}
}

func TestCheckOwner(t *testing.T) {
	o := sample(order.StatusCreated, 0)
	assert.NoError(t, o.CheckOwner(userID))
	assert.ErrorIs(t, o.CheckOwner("00000000000000000000000f"), errs.ErrNotAuthorized)
	assert.ErrorIs(t, o.CheckOwner(""), errs.ErrNotAuthorized)
}

// Each rule in one table: what cancelling by the buyer, expiring and paying
// do to an order in each status.
func TestTransitions(t *testing.T) {
	type outcome struct {
		status  order.Status
		changed bool
		err     error
	}
	tests := []struct {
		from     order.Status
		cancel   outcome
		expire   outcome
		complete outcome
	}{
		{
			from:     order.StatusCreated,
			cancel:   outcome{order.StatusCancelled, true, nil},
			expire:   outcome{order.StatusCancelled, true, nil},
			complete: outcome{order.StatusComplete, true, nil},
		},
		{
			from:     order.StatusAwaitingPayment,
			cancel:   outcome{order.StatusCancelled, true, nil},
			expire:   outcome{order.StatusCancelled, true, nil},
			complete: outcome{order.StatusComplete, true, nil},
		},
		{
			from:     order.StatusComplete,
			cancel:   outcome{order.StatusComplete, false, order.ErrCancelCompleted},
			expire:   outcome{order.StatusComplete, false, nil},
			complete: outcome{order.StatusComplete, false, nil},
		},
		{
			from:     order.StatusCancelled,
			cancel:   outcome{order.StatusCancelled, false, nil},
			expire:   outcome{order.StatusCancelled, false, nil},
			complete: outcome{order.StatusCancelled, false, nil},
		},
	}
	check := func(t *testing.T, what string, want outcome, next order.Order, changed bool, err error) {
		t.Helper()
		if want.err != nil {
			assert.ErrorIs(t, err, want.err, what)
		} else {
			assert.NoError(t, err, what)
		}
		assert.Equal(t, want.changed, changed, what)
		assert.Equal(t, want.status, next.Status, what)
		wantVersion := int64(3)
		if changed {
			wantVersion = 4
		}
		assert.Equal(t, wantVersion, next.Version, "%s: version + 1 exactly when changed", what)
	}
	for _, tt := range tests {
		t.Run(string(tt.from), func(t *testing.T) {
			o := sample(tt.from, 3)
			next, changed, err := o.Cancel()
			check(t, "cancel", tt.cancel, next, changed, err)
			next, changed = o.Expire()
			check(t, "expire", tt.expire, next, changed, nil)
			next, changed = o.Complete()
			check(t, "complete", tt.complete, next, changed, nil)
			assert.Equal(t, tt.from, o.Status, "the receiver is not modified")
		})
	}
}

func TestErrorMessages(t *testing.T) {
	for err, want := range map[*errs.Error]string{
		order.ErrTicketReserved:  "Ticket is already reserved",
		order.ErrCancelCompleted: "Cannot cancel a completed order",
	} {
		status, body := errs.Response(err)
		assert.Equal(t, 400, status)
		assert.Equal(t, []errs.FieldError{{Message: want}}, body.Errors)
	}
}

func TestEvents(t *testing.T) {
	created, err := json.Marshal(sample(order.StatusCreated, 0).CreatedEvent())
	require.NoError(t, err)
	assert.Equal(t, `{"id":"00000000000000000000000a","version":0,"status":"created","userId":"00000000000000000000000b",`+
		`"expiresAt":"2026-01-02T03:04:05.678Z","ticket":{"id":"00000000000000000000000c","price":20.5}}`, string(created))

	next, changed, err := sample(order.StatusCreated, 0).Cancel()
	require.NoError(t, err)
	require.True(t, changed)
	cancelled, err := json.Marshal(next.CancelledEvent())
	require.NoError(t, err)
	assert.Equal(t, `{"id":"00000000000000000000000a","version":1,"ticket":{"id":"00000000000000000000000c"}}`, string(cancelled),
		"the event carries the version after the cancel")
}
