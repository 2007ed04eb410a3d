package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/events"
	"github.com/ticketing/common/testkit"
)

func TestPublishSubscribeRoundTrip(t *testing.T) {
	t.Parallel()
	forEachBus(t, func(t *testing.T, bus events.Bus) {
		expires := time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
		tests := []struct {
			payload events.Payload
			listen  func(*events.Conn, string, chan<- delivery, ...events.ListenOption) (*events.Listener, error)
		}{
			{ticket(1), listenInto[events.TicketCreated]},
			{events.TicketUpdated{ID: oid(1), Version: 1, Title: "t", Price: 5, UserID: oid(2), OrderID: oid(3)}, listenInto[events.TicketUpdated]},
			{events.OrderCreated{ID: oid(3), Status: events.OrderStatusCreated, UserID: oid(2), ExpiresAt: expires,
				Ticket: events.OrderCreatedTicket{ID: oid(1), Price: 5}}, listenInto[events.OrderCreated]},
			{events.OrderCancelled{ID: oid(3), Version: 1, Ticket: events.OrderCancelledTicket{ID: oid(1)}}, listenInto[events.OrderCancelled]},
			{events.ExpirationComplete{OrderID: oid(3)}, listenInto[events.ExpirationComplete]},
			{events.PaymentCreated{ID: oid(4), OrderID: oid(3), StripeID: "ch_1"}, listenInto[events.PaymentCreated]},
		}
		// One server for the table: each subject is its own channel, so the
		// cases do not see each other's messages.
		srv := server(t, bus)
		conn := srv.Connect(t)
		pub := events.NewPublisher(conn)
		for i, tt := range tests {
			t.Run(string(tt.payload.Subject()), func(t *testing.T) {
				got := make(chan delivery, 10)
				l, err := tt.listen(conn, "round-trip", got)
				require.NoError(t, err)
				t.Cleanup(func() { assert.NoError(t, l.Close()) })
				assert.Equal(t, tt.payload.Subject(), l.Subject())
				assert.Equal(t, "round-trip", l.Group())

				require.NoError(t, pub.PublishEvent(ctxFor(t), tt.payload))

				d := receive(t, got)
				assert.Equal(t, tt.payload, d.msg)
				assert.Equal(t, tt.payload.Subject(), d.meta.Subject)
				// A channel per subject on NATS Streaming; one stream for
				// all, in the order the cases run, on JetStream.
				wantSeq := uint64(1)
				if bus == events.BusJetStream {
					wantSeq = uint64(i + 1)
				}
				assert.Equal(t, wantSeq, d.meta.Sequence)
				// Redelivered is not asserted false: a loaded machine can let the
				// 5 s ack wait pass before the ack lands, and the server may then
				// send a second copy. TestUnackedMessageIsRedelivered covers it.
				assert.WithinDuration(t, time.Now(), d.meta.Timestamp, time.Minute)
			})
		}
	})
}

func TestPublishEventRefusesInvalidPayload(t *testing.T) {
	t.Parallel()
	srv := testkit.NATS(t)
	pub := events.NewPublisher(srv.Connect(t))
	err := pub.PublishEvent(ctxFor(t), events.PaymentCreated{ID: oid(1), OrderID: oid(2)})
	require.ErrorIs(t, err, events.ErrInvalidPayload)
	assert.Contains(t, err.Error(), "stripeId")
}

// A failing or panicking handler leaves the message unacked; the server
// redelivers it after the ack wait, and once acked it does not come back.
func TestUnackedMessageIsRedelivered(t *testing.T) {
	t.Parallel()
	forEachBus(t, func(t *testing.T, bus events.Bus) {
		tests := []struct {
			name    string
			fail    func() error
			wantLog string
		}{
			{"handler error", func() error { return errors.New("database is down") }, "handler failed"},
			{"handler panic", func() error { panic("bug in handler") }, "handler panicked"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				srv := server(t, bus)
				logger, logs := testkit.NewLogger()
				conn := srv.Connect(t, func(c *events.Config) { c.Logger = logger })
				pub := events.NewPublisher(conn)

				var calls atomic.Int32
				done := make(chan events.Meta, 10)
				l, err := events.Listen(conn, events.GroupOrders, func(_ context.Context, _ events.TicketCreated, meta events.Meta) error {
					if calls.Add(1) == 1 {
						return tt.fail()
					}
					done <- meta
					return nil
				}, events.WithAckWait(time.Second))
				require.NoError(t, err)
				t.Cleanup(func() { assert.NoError(t, l.Close()) })

				require.NoError(t, pub.PublishEvent(ctxFor(t), ticket(1)))

				select {
				case meta := <-done:
					assert.True(t, meta.Redelivered)
					assert.Equal(t, uint64(1), meta.Sequence)
				case <-time.After(waitFor):
					t.Fatal("message was not redelivered")
				}
				assert.True(t, logs.Has(t, tt.wantLog, map[string]any{
					"subject": "ticket:created", "sequence": float64(1), "group": events.GroupOrders,
				}), logs.String())
				// Acked on the second try: another ack wait passes without a third call.
				assert.Never(t, func() bool { return calls.Load() > 2 }, 2500*time.Millisecond, 100*time.Millisecond)
			})
		}
	})
}

// Messages that can never be processed are logged with subject and sequence
// and acked, so even with one message in flight the next one gets through.
func TestPoisonMessageIsAckedAndLogged(t *testing.T) {
	t.Parallel()
	forEachBus(t, func(t *testing.T, bus events.Bus) {
		tests := []struct {
			name    string
			body    string
			wantLog string
		}{
			{"not JSON", `{not json`, "poison message: undecodable"},
			{"fails Validate", `{"id":"123","version":0,"title":"t","price":1,"userId":"000000000000000000000002"}`, "poison message: undecodable"},
			{"handler returns ErrPoison", mustJSON(t, events.TicketCreated{ID: oid(666), Title: "t", Price: 1, UserID: oid(2)}), "poison message: handler says"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				srv := server(t, bus)
				logger, logs := testkit.NewLogger()
				conn := srv.Connect(t, func(c *events.Config) { c.Logger = logger })
				pub := events.NewPublisher(conn)

				var poisonCalls atomic.Int32
				good := make(chan events.TicketCreated, 10)
				l, err := events.Listen(conn, events.GroupOrders, func(_ context.Context, msg events.TicketCreated, _ events.Meta) error {
					if msg.ID == oid(666) {
						poisonCalls.Add(1)
						return fmt.Errorf("ticket %s refers to nothing: %w", msg.ID, events.ErrPoison)
					}
					good <- msg
					return nil
				}, events.WithAckWait(time.Second), events.WithMaxInflight(1), events.WithWorkers(1))
				require.NoError(t, err)
				t.Cleanup(func() { assert.NoError(t, l.Close()) })

				ctx := ctxFor(t)
				require.NoError(t, pub.Publish(ctx, string(events.SubjectTicketCreated), []byte(tt.body)))
				require.NoError(t, pub.PublishEvent(ctx, ticket(2)))

				select {
				case msg := <-good:
					assert.Equal(t, ticket(2), msg)
				case <-time.After(waitFor):
					t.Fatal("the message after the poison one was not processed")
				}
				assert.True(t, logs.Has(t, tt.wantLog, map[string]any{
					"level": "ERROR", "subject": "ticket:created", "sequence": float64(1),
				}), logs.String())
				// Acked: neither the poison message nor the good one comes back.
				assert.Never(t, func() bool { return poisonCalls.Load() > 1 || len(good) > 0 },
					2500*time.Millisecond, 100*time.Millisecond)
			})
		}
	})
}

func mustJSON(t testing.TB, p events.Payload) string {
	t.Helper()
	b, err := json.Marshal(p)
	require.NoError(t, err)
	return string(b)
}

// A queue group is durable: when its only listener goes away and comes
// back, it gets what was published meanwhile and nothing it acked before.
func TestDurableQueueGroupResumes(t *testing.T) {
	t.Parallel()
	forEachBus(t, func(t *testing.T, bus events.Bus) {
		tests := []struct {
			name string
			// reconnect decides whether the second listener uses a new
			// connection (the service restarted) or the same one.
			reconnect bool
		}{
			{"listener restarted on the same connection", false},
			{"service restarted with a new connection", true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				srv := server(t, bus)
				pub := events.NewPublisher(srv.Connect(t))
				ctx := ctxFor(t)

				conn := srv.Connect(t)
				first := make(chan delivery, 10)
				log, logs := testkit.NewLogger()
				l, err := listenInto[events.TicketCreated](conn, events.GroupOrders, first, events.WithAckWait(time.Second), events.WithLogger(log))
				require.NoError(t, err)
				for n := 1; n <= 3; n++ {
					require.NoError(t, pub.PublishEvent(ctx, ticket(n)))
				}
				// A loaded machine may delay an ack past the ack wait, so a
				// second copy of a message can arrive before the next one.
				seen := map[string]bool{}
				for len(seen) < 3 {
					d := receive(t, first)
					require.LessOrEqual(t, d.meta.Sequence, uint64(3), "unexpected message: %+v", d.meta)
					seen[d.msg.(events.TicketCreated).ID] = true
				}
				assert.Equal(t, map[string]bool{oid(1): true, oid(2): true, oid(3): true}, seen)
				// The handler hands a message over before the listener acks it;
				// "event handled" is logged once the ack is sent. Going away
				// before each sequence is acked once would rightly bring it back.
				require.Eventually(t, func() bool {
					for seq := 1; seq <= 3; seq++ {
						if !logs.Has(t, "event handled", map[string]any{"sequence": float64(seq)}) {
							return false
						}
					}
					return true
				}, waitFor, 10*time.Millisecond)

				if tt.reconnect {
					require.NoError(t, conn.Close())
					conn = srv.Connect(t)
				} else {
					require.NoError(t, l.Close())
				}

				for n := 4; n <= 5; n++ {
					require.NoError(t, pub.PublishEvent(ctx, ticket(n)))
				}
				second := make(chan delivery, 10)
				l2, err := listenInto[events.TicketCreated](conn, events.GroupOrders, second, events.WithAckWait(time.Second))
				require.NoError(t, err)
				t.Cleanup(func() { assert.NoError(t, l2.Close()) })

				// Until both new messages are in. A second copy of one may come
				// first when a loaded machine delays its ack past the ack wait
				// (at least once, as TestUnackedMessageIsRedelivered shows); an
				// old, acked message must never come.
				got := map[uint64]string{}
				for len(got) < 2 {
					d := receive(t, second)
					require.GreaterOrEqual(t, d.meta.Sequence, uint64(4), "an acked message came back: %+v", d.meta)
					got[d.meta.Sequence] = d.msg.(events.TicketCreated).ID
				}
				assert.Equal(t, map[uint64]string{4: oid(4), 5: oid(5)}, got)
				// Past one more ack wait: none of the old, acked messages arrives
				// (a late second copy of 4 or 5 may).
				assert.Never(t, func() bool {
					select {
					case d := <-second:
						return d.meta.Sequence < 4
					default:
						return len(first) > 0
					}
				}, 2500*time.Millisecond, 100*time.Millisecond)
			})
		}
	})
}

func TestWorkerPoolBoundsConcurrency(t *testing.T) {
	t.Parallel()
	forEachBus(t, func(t *testing.T, bus events.Bus) {
		srv := server(t, bus)
		conn := srv.Connect(t)
		pub := events.NewPublisher(conn)

		const workers, total = 3, 30
		var active, peak atomic.Int32
		var mu sync.Mutex
		processed := map[string]int{}
		l, err := events.Listen(conn, events.GroupOrders, func(_ context.Context, msg events.TicketCreated, _ events.Meta) error {
			n := active.Add(1)
			defer active.Add(-1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(10 * time.Millisecond) // stands in for a database write
			mu.Lock()
			processed[msg.ID]++
			mu.Unlock()
			return nil
		}, events.WithWorkers(workers), events.WithMaxInflight(10))
		require.NoError(t, err)
		t.Cleanup(func() { assert.NoError(t, l.Close()) })

		ctx := ctxFor(t)
		for n := 1; n <= total; n++ {
			require.NoError(t, pub.PublishEvent(ctx, ticket(n)))
		}
		require.Eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(processed) == total
		}, waitFor, 20*time.Millisecond)
		assert.LessOrEqual(t, peak.Load(), int32(workers))
		assert.Greater(t, peak.Load(), int32(1), "messages should be processed in parallel")
	})
}

// Close waits for a handler in progress, so its message is acked and not
// handed to the next member of the group.
func TestListenerCloseFinishesInFlightMessage(t *testing.T) {
	t.Parallel()
	forEachBus(t, func(t *testing.T, bus events.Bus) {
		srv := server(t, bus)
		conn := srv.Connect(t)
		pub := events.NewPublisher(conn)

		started := make(chan struct{})
		release := make(chan struct{})
		var finished atomic.Bool
		l, err := events.Listen(conn, events.GroupOrders, func(context.Context, events.TicketCreated, events.Meta) error {
			close(started)
			<-release
			finished.Store(true)
			return nil
		}, events.WithAckWait(time.Second))
		require.NoError(t, err)

		require.NoError(t, pub.PublishEvent(ctxFor(t), ticket(1)))
		select {
		case <-started:
		case <-time.After(waitFor):
			t.Fatal("handler did not start")
		}
		closed := make(chan error, 1)
		go func() { closed <- l.Close() }()
		select {
		case <-closed:
			t.Fatal("Close returned while a handler was still running")
		case <-time.After(200 * time.Millisecond):
		}
		close(release)
		select {
		case err := <-closed:
			require.NoError(t, err)
		case <-time.After(waitFor):
			t.Fatal("Close did not return")
		}
		assert.True(t, finished.Load())

		again := make(chan delivery, 1)
		l2, err := listenInto[events.TicketCreated](conn, events.GroupOrders, again, events.WithAckWait(time.Second))
		require.NoError(t, err)
		t.Cleanup(func() { assert.NoError(t, l2.Close()) })
		assert.Never(t, func() bool { return len(again) > 0 }, 2500*time.Millisecond, 100*time.Millisecond)
	})
}

func TestListenRejectsBadOptions(t *testing.T) {
	t.Parallel()
	srv := testkit.NATS(t)
	conn := srv.Connect(t)
	handler := func(context.Context, events.TicketCreated, events.Meta) error { return nil }
	tests := []struct {
		name  string
		group string
		opts  []events.ListenOption
		want  string
	}{
		{"no group", "", nil, "queue group is required"},
		{"ack wait below 1s", events.GroupOrders, []events.ListenOption{events.WithAckWait(500 * time.Millisecond)}, "below the server's minimum"},
		{"no workers", events.GroupOrders, []events.ListenOption{events.WithWorkers(0)}, "must be at least 1"},
		{"no inflight", events.GroupOrders, []events.ListenOption{events.WithMaxInflight(0)}, "must be at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := events.Listen(conn, tt.group, handler, tt.opts...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
