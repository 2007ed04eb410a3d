package events_test

import (
	"context"
	"testing"
	"time"

	"github.com/ticketing/common/events"
	"github.com/ticketing/common/testkit"
)

// waitFor bounds every wait on the bus; generous because -race on a small
// machine is slow, and a passing test never waits this long.
const waitFor = 15 * time.Second

type delivery struct {
	msg  events.Payload
	meta events.Meta
}

// listenInto makes a listener that acks everything and reports it on out.
func listenInto[T events.Payload](conn *events.Conn, group string, out chan<- delivery, opts ...events.ListenOption) (*events.Listener, error) {
	return events.Listen(conn, group, func(_ context.Context, msg T, meta events.Meta) error {
		out <- delivery{msg, meta}
		return nil
	}, opts...)
}

func receive(t testing.TB, ch <-chan delivery) delivery {
	t.Helper()
	select {
	case d := <-ch:
		return d
	case <-time.After(waitFor):
		t.Fatalf("no message within %v", waitFor)
		return delivery{}
	}
}

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	t.Cleanup(cancel)
	return ctx
}

func ticket(n int) events.TicketCreated {
	return events.TicketCreated{ID: oid(n), Version: 0, Title: "ticket", Price: 10, UserID: oid(1000)}
}

// forEachBus runs test once per bus, in parallel subtests named after it,
// so every behaviour is checked on NATS Streaming and on JetStream alike.
func forEachBus(t *testing.T, test func(t *testing.T, bus events.Bus)) {
	t.Helper()
	for _, bus := range testkit.Buses() {
		t.Run(string(bus), func(t *testing.T) {
			t.Parallel()
			test(t, bus)
		})
	}
}

// server starts an in-process server of bus for this test.
func server(t testing.TB, bus events.Bus, opts ...testkit.NATSOption) *testkit.NATSServer {
	t.Helper()
	return testkit.NATS(t, append(opts, testkit.WithBus(bus))...)
}
