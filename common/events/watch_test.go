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

func watchInto[T events.Payload](t *testing.T, conn *events.Conn, out chan<- delivery) *events.Watcher {
	t.Helper()
	w, err := events.Watch(conn, func(_ context.Context, msg T, meta events.Meta) error {
		out <- delivery{msg, meta}
		return nil
	})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, w.Close()) })
	return w
}

// Every watcher hears every message published after it started, in order,
// while a queue group shares the same messages out; nothing published
// before Watch is delivered.
func TestWatchEveryProcessHearsEveryMessage(t *testing.T) {
	t.Parallel()
	forEachBus(t, func(t *testing.T, bus events.Bus) {
		srv := server(t, bus)
		pub := events.NewPublisher(srv.Connect(t))
		ctx := ctxFor(t)
		require.NoError(t, pub.PublishEvent(ctx, ticket(0)))

		var watchers []chan delivery
		for range 2 {
			got := make(chan delivery, 10)
			w := watchInto[events.TicketCreated](t, srv.Connect(t), got)
			assert.Equal(t, events.SubjectTicketCreated, w.Subject())
			watchers = append(watchers, got)
		}
		queued := make(chan delivery, 10)
		for range 2 {
			l, err := listenInto[events.TicketCreated](srv.Connect(t), "shared", queued)
			require.NoError(t, err)
			t.Cleanup(func() { assert.NoError(t, l.Close()) })
		}

		for n := 1; n <= 3; n++ {
			require.NoError(t, pub.PublishEvent(ctx, ticket(n)))
		}
		for i, got := range watchers {
			for n := 1; n <= 3; n++ {
				assert.Equal(t, ticket(n), receive(t, got).msg, "watcher %d, message %d", i, n)
			}
		}
		// The group got ticket 0 (it delivers all available) and 1..3, once each.
		for range 4 {
			receive(t, queued)
		}
		assert.Never(t, func() bool { return len(watchers[0])+len(watchers[1])+len(queued) > 0 },
			500*time.Millisecond, 50*time.Millisecond, "no copies, no message from before Watch")
	})
}

// A watcher whose connection was lost resumes after the last message it
// had: what was published while it was away arrives.
func TestWatchResumesAfterReconnect(t *testing.T) {
	t.Parallel()
	forEachBus(t, func(t *testing.T, bus events.Bus) {
		srv := server(t, bus, testkit.WithFileStore())
		logger, logs := testkit.NewLogger()
		t.Cleanup(func() {
			if t.Failed() {
				t.Log(logs.String())
			}
		})
		watchConn := srv.Connect(t, func(c *events.Config) { c.Logger = logger })
		got := make(chan delivery, 10)
		watchInto[events.TicketCreated](t, watchConn, got)
		pubConn := srv.Connect(t)
		pub := events.NewPublisher(pubConn)
		ctx := ctxFor(t)

		require.NoError(t, pub.PublishEvent(ctx, ticket(1)))
		assert.Equal(t, ticket(1), receive(t, got).msg)

		srv.Stop()
		require.Eventually(t, func() bool { return !watchConn.Connected() && !pubConn.Connected() }, waitFor, 20*time.Millisecond)
		srv.Restart()
		require.Eventually(t, func() bool { return pubConn.Connected() }, waitFor, 20*time.Millisecond)
		// Published before the watcher is back, perhaps: it must arrive anyway.
		require.NoError(t, pub.PublishEvent(ctx, ticket(2)))
		require.Eventually(t, func() bool { return watchConn.Connected() }, waitFor, 20*time.Millisecond)
		require.NoError(t, pub.PublishEvent(ctx, ticket(3)))

		// The old subscription may have had 3 (but lost 2) just before the
		// client noticed the lost connection: then 3 comes again after 2.
		seen := map[string]int{}
		for seen[ticket(2).ID] == 0 || seen[ticket(3).ID] == 0 {
			d := receive(t, got)
			seen[d.msg.(events.TicketCreated).ID]++
		}
		assert.Never(t, func() bool { return len(got) > 1 }, 500*time.Millisecond, 50*time.Millisecond)
		for len(got) > 0 {
			seen[(<-got).msg.(events.TicketCreated).ID]++
		}
		assert.NotContains(t, seen, ticket(1).ID, "nothing from before the last one it had")
		assert.LessOrEqual(t, seen[ticket(2).ID]+seen[ticket(3).ID], 3)
	})
}

func TestWatchRejectsBadOptions(t *testing.T) {
	t.Parallel()
	conn := server(t, events.BusStan).Connect(t)
	_, err := events.Watch[events.TicketCreated](conn, nil)
	assert.Error(t, err)
	_, err = events.Watch(conn, func(context.Context, events.TicketCreated, events.Meta) error { return nil },
		events.WithAckWait(time.Millisecond))
	assert.Error(t, err)
}
