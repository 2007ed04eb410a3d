package events_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/events"
)

// NATS_URL may list every node of a cluster, comma-separated: a service
// connects through whichever answers, so one node being down at start
// does not keep it from the bus (issue 15: services connect to all three).
func TestConnectsThroughAnyListedServer(t *testing.T) {
	t.Parallel()
	forEachBus(t, func(t *testing.T, bus events.Bus) {
		srv := server(t, bus)
		// Nothing listens on port 1: the first server listed is down.
		conn := srv.Connect(t, func(c *events.Config) { c.URL = "nats://127.0.0.1:1," + srv.URL() })
		require.True(t, conn.Connected())

		got := make(chan delivery, 1)
		l, err := listenInto[events.TicketCreated](conn, events.GroupOrders, got)
		require.NoError(t, err)
		t.Cleanup(func() { assert.NoError(t, l.Close()) })
		require.NoError(t, events.NewPublisher(conn).PublishEvent(ctxFor(t), ticket(1)))
		assert.Equal(t, oid(1), receive(t, got).msg.(events.TicketCreated).ID)
	})
}
