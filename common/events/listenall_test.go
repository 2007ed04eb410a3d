package events_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/events"
)

// ListenAll starts every handler in the group; when one cannot start, those
// started before it are closed, so their messages go to whoever listens
// next instead of to a half-started service.
func TestListenAll(t *testing.T) {
	t.Parallel()
	forEachBus(t, func(t *testing.T, bus events.Bus) {
		srv := server(t, bus)
		pub := events.NewPublisher(srv.Connect(t))
		ctx := ctxFor(t)
		conn := srv.Connect(t)
		created := make(chan delivery, 10)
		expired := make(chan delivery, 10)
		ackWait := []events.ListenOption{events.WithAckWait(time.Second)}

		refused := errors.New("refused")
		_, err := events.ListenAll(conn, events.GroupOrders, ackWait,
			events.On(func(_ context.Context, msg events.TicketCreated, meta events.Meta) error {
				created <- delivery{msg, meta}
				return nil
			}),
			func(*events.Conn, string, ...events.ListenOption) (*events.Listener, error) { return nil, refused },
		)
		require.ErrorIs(t, err, refused)
		require.NoError(t, pub.PublishEvent(ctx, ticket(1)))
		assert.Never(t, func() bool { return len(created) > 0 }, 500*time.Millisecond, 50*time.Millisecond,
			"the listener started before the failure was closed")

		ls, err := events.ListenAll(conn, events.GroupOrders, ackWait,
			events.On(func(_ context.Context, msg events.TicketCreated, meta events.Meta) error {
				created <- delivery{msg, meta}
				return nil
			}),
			events.On(func(_ context.Context, msg events.ExpirationComplete, meta events.Meta) error {
				expired <- delivery{msg, meta}
				return nil
			}),
		)
		require.NoError(t, err)
		require.Len(t, ls, 2)
		assert.Equal(t, oid(1), receive(t, created).msg.(events.TicketCreated).ID, "the durable group resumes with what it missed")
		require.NoError(t, pub.PublishEvent(ctx, events.ExpirationComplete{OrderID: oid(7)}))
		assert.Equal(t, oid(7), receive(t, expired).msg.(events.ExpirationComplete).OrderID)
		assert.NoError(t, events.CloseAll(ls))
	})
}
