package events_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/events"
	"github.com/ticketing/common/testkit"
)

// The server goes away long enough for the clients to give the connection
// up, then comes back on the same port. Both the publishing and the
// listening side reconnect on their own, the listener's subscription is
// re-created, and publishing fails clearly in between.
func TestReconnectAfterServerRestart(t *testing.T) {
	t.Parallel()
	forEachBus(t, func(t *testing.T, bus events.Bus) {
		tests := []struct {
			name string
			opts []testkit.NATSOption
			// The memory store forgets channels and durables on restart, so the
			// group starts over from the first message the new server has. The
			// file store, like the cluster's volume, remembers the group's
			// position: the acked message must not come back.
		}{
			{"memory store", nil},
			{"file store", []testkit.NATSOption{testkit.WithFileStore()}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				srv := server(t, bus, tt.opts...)
				logger, logs := testkit.NewLogger()
				t.Cleanup(func() {
					if t.Failed() {
						t.Log(logs.String())
					}
				})
				withLogs := func(c *events.Config) { c.Logger = logger }
				listenConn := srv.Connect(t, withLogs)
				pubConn := srv.Connect(t, withLogs)
				pub := events.NewPublisher(pubConn)

				got := make(chan delivery, 10)
				l, err := listenInto[events.TicketCreated](listenConn, events.GroupOrders, got, events.WithAckWait(time.Second))
				require.NoError(t, err)
				t.Cleanup(func() { assert.NoError(t, l.Close()) })

				ctx := ctxFor(t)
				require.NoError(t, pub.PublishEvent(ctx, ticket(1)))
				assert.Equal(t, ticket(1), receive(t, got).msg)
				require.NoError(t, listenConn.Ready(ctx))
				// The ack must reach the server before it stops, or the file store
				// rightly delivers the message again: no redelivery within one ack
				// wait shows it did.
				assert.Never(t, func() bool { return len(got) > 0 }, 1500*time.Millisecond, 100*time.Millisecond)

				srv.Stop()
				require.Eventually(t, func() bool { return !listenConn.Connected() && !pubConn.Connected() },
					waitFor, 20*time.Millisecond)
				assert.ErrorIs(t, listenConn.Ready(ctx), events.ErrNotConnected)
				assert.ErrorIs(t, pub.PublishEvent(ctx, ticket(2)), events.ErrNotConnected)
				// Stay down until both clients have given up their connections, so
				// the restart exercises the reconnect path, not just NATS's own
				// transparent reconnect.
				require.Eventually(t, func() bool {
					return logs.Count(t, "lost connection to NATS", nil) >= 2
				}, waitFor, 50*time.Millisecond)

				srv.Restart()
				require.Eventually(t, func() bool { return listenConn.Connected() && pubConn.Connected() },
					waitFor, 50*time.Millisecond)
				require.NoError(t, listenConn.Ready(ctx))
				assert.Equal(t, 2, logs.Count(t, "reconnected to NATS", nil))

				require.NoError(t, pub.PublishEvent(ctx, ticket(3)))
				third := receive(t, got)
				assert.Equal(t, ticket(3), third.msg)
				// Nothing else comes: only a redelivered copy of the third, as a
				// loaded machine may delay its ack past the ack wait.
				assert.Never(t, func() bool {
					select {
					case d := <-got:
						return !d.meta.Redelivered || d.meta.Sequence != third.meta.Sequence
					default:
						return false
					}
				}, 2500*time.Millisecond, 100*time.Millisecond)
			})
		}
	})
}

// Connect keeps trying while the server is not there yet (as at the start of
// a cluster, when pods come up in any order) and gives up when ctx ends.
func TestConnectRetriesUntilServerIsUp(t *testing.T) {
	t.Parallel()
	forEachBus(t, func(t *testing.T, bus events.Bus) {
		srv := server(t, bus)
		srv.Stop()
		cfg := events.Config{
			Bus: bus, URL: srv.URL(), ClusterID: testkit.NATSClusterID, ClientID: testkit.UniqueClientID(t),
			MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		}

		short, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		_, err := events.Connect(short, cfg)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Contains(t, err.Error(), srv.URL())

		type result struct {
			conn *events.Conn
			err  error
		}
		done := make(chan result, 1)
		go func() {
			c, err := events.Connect(ctxFor(t), cfg)
			done <- result{c, err}
		}()
		srv.Restart()
		select {
		case r := <-done:
			require.NoError(t, r.err)
			t.Cleanup(func() { assert.NoError(t, r.conn.Close()) })
			assert.True(t, r.conn.Connected())
		case <-time.After(waitFor):
			t.Fatal("Connect did not return after the server came up")
		}
	})
}

func TestConnectRequiresConfig(t *testing.T) {
	t.Parallel()
	_, err := events.Connect(t.Context(), events.Config{URL: "nats://127.0.0.1:1"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ClusterID")
	assert.Contains(t, err.Error(), "ClientID")
}

func TestClosedConnection(t *testing.T) {
	t.Parallel()
	forEachBus(t, func(t *testing.T, bus events.Bus) {
		srv := server(t, bus)
		conn := srv.Connect(t)
		require.NoError(t, conn.Close())
		require.NoError(t, conn.Close(), "Close twice is harmless")

		assert.False(t, conn.Connected())
		assert.ErrorIs(t, conn.Ready(t.Context()), events.ErrNotConnected)
		assert.ErrorIs(t, events.NewPublisher(conn).PublishEvent(t.Context(), ticket(1)), events.ErrNotConnected)
		_, err := listenInto[events.TicketCreated](conn, events.GroupOrders, make(chan delivery))
		assert.Error(t, err)
	})
}
