package events_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/events"
)

// An outbox relay that crashed between publishing an event and removing it
// publishes it again on restart. JetStream stores it once (the Nats-Msg-Id
// names the event), so listeners hear it once; the next event, another
// version or another record, is stored as usual.
func TestJetStreamStoresARepublishedEventOnce(t *testing.T) {
	t.Parallel()
	expires := time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	tests := []struct {
		event, next events.Payload
		listen      func(*events.Conn, string, chan<- delivery, ...events.ListenOption) (*events.Listener, error)
	}{
		{ticket(1), ticket(2), listenInto[events.TicketCreated]},
		{
			events.TicketUpdated{ID: oid(1), Version: 1, Title: "t", Price: 5, UserID: oid(2), OrderID: oid(3)},
			events.TicketUpdated{ID: oid(1), Version: 2, Title: "t", Price: 5, UserID: oid(2)},
			listenInto[events.TicketUpdated],
		},
		{
			events.OrderCreated{ID: oid(3), Status: events.OrderStatusCreated, UserID: oid(2), ExpiresAt: expires, Ticket: events.OrderCreatedTicket{ID: oid(1), Price: 5}},
			events.OrderCreated{ID: oid(4), Status: events.OrderStatusCreated, UserID: oid(2), ExpiresAt: expires, Ticket: events.OrderCreatedTicket{ID: oid(1), Price: 5}},
			listenInto[events.OrderCreated],
		},
		{
			events.OrderCancelled{ID: oid(3), Version: 1, Ticket: events.OrderCancelledTicket{ID: oid(1)}},
			events.OrderCancelled{ID: oid(4), Version: 1, Ticket: events.OrderCancelledTicket{ID: oid(1)}},
			listenInto[events.OrderCancelled],
		},
		{events.ExpirationComplete{OrderID: oid(3)}, events.ExpirationComplete{OrderID: oid(4)}, listenInto[events.ExpirationComplete]},
		{
			events.PaymentCreated{ID: oid(5), OrderID: oid(3), StripeID: "ch_1"},
			events.PaymentCreated{ID: oid(6), OrderID: oid(3), StripeID: "ch_2"},
			listenInto[events.PaymentCreated],
		},
	}
	for _, tt := range tests {
		t.Run(string(tt.event.Subject()), func(t *testing.T) {
			t.Parallel()
			srv := server(t, events.BusJetStream)
			conn := srv.Connect(t)
			pub := events.NewPublisher(conn)
			got := make(chan delivery, 10)
			l, err := tt.listen(conn, "dedup", got)
			require.NoError(t, err)
			t.Cleanup(func() { assert.NoError(t, l.Close()) })

			ctx := ctxFor(t)
			require.NoError(t, pub.PublishEvent(ctx, tt.event))
			require.NoError(t, pub.PublishEvent(ctx, tt.event), "a duplicate is acked, not refused")
			require.NoError(t, pub.PublishEvent(ctx, tt.next))

			first, second := receive(t, got), receive(t, got)
			// Workers run side by side, so the two may arrive either way round.
			if first.meta.Sequence > second.meta.Sequence {
				first, second = second, first
			}
			assert.Equal(t, tt.event, first.msg)
			assert.Equal(t, tt.next, second.msg)
			// The duplicate took no place in the stream.
			assert.Equal(t, []uint64{1, 2}, []uint64{first.meta.Sequence, second.meta.Sequence})
			assert.Never(t, func() bool { return len(got) > 0 }, time.Second, 50*time.Millisecond)
		})
	}
}
