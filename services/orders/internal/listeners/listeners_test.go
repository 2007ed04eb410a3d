package listeners_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/ticketing/common/events"
	"github.com/ticketing/common/testkit"
	"github.com/ticketing/services/orders/internal/listeners"
	"github.com/ticketing/services/orders/internal/order"
	"github.com/ticketing/services/orders/internal/store"
)

func oid() string { return primitive.NewObjectID().Hex() }

// outcome is what the listener base does with a handler's result.
type outcome string

const (
	ack       outcome = "ack"
	redeliver outcome = "redeliver"
	poison    outcome = "poison (logged and acked)"
)

func outcomeOf(err error) outcome {
	switch {
	case err == nil:
		return ack
	case errors.Is(err, events.ErrPoison):
		return poison
	default:
		return redeliver
	}
}

// The handlers over the real store: each case is one message and what the
// listener must do with it, in sequence.
func TestHandlerOutcomes(t *testing.T) {
	ctx := context.Background()
	db := testkit.MongoDB(t)
	orders, tickets := store.NewOrders(db, nil), store.NewTickets(db)
	require.NoError(t, orders.EnsureIndexes(ctx))
	svc, err := order.NewService(order.Config{Orders: orders, Tickets: tickets, Holds: store.NewHolds(db)})
	require.NoError(t, err)

	ticketCreated := listeners.TicketCreated(svc)
	ticketUpdated := listeners.TicketUpdated(svc)
	expired := listeners.ExpirationComplete(svc)
	paid := listeners.PaymentCreated(svc)
	meta := events.Meta{}

	ticketID, seller := oid(), oid()
	created := events.TicketCreated{ID: ticketID, Version: 0, Title: "t", Price: 10, UserID: seller}
	update := func(v int64) events.TicketUpdated {
		return events.TicketUpdated{ID: ticketID, Version: v, Title: "t", Price: float64(10 + v), UserID: seller}
	}
	var open, other order.Order

	steps := []struct {
		name string
		run  func() error
		want outcome
	}{
		{"v2 before v1 and before the create: applied", func() error { return ticketUpdated(ctx, update(2), meta) }, ack},
		{"v1, late", func() error { return ticketUpdated(ctx, update(1), meta) }, ack},
		{"create, late", func() error { return ticketCreated(ctx, created, meta) }, ack},
		{"repeated create", func() error { return ticketCreated(ctx, created, meta) }, ack},
		{"v1 again", func() error { return ticketUpdated(ctx, update(1), meta) }, ack},
		{"v2 again", func() error { return ticketUpdated(ctx, update(2), meta) }, ack},
		{"reserve", func() (err error) {
			open, err = svc.Reserve(ctx, oid(), ticketID)
			return err
		}, ack},
		{"payment for an unknown order", func() error {
			return paid(ctx, events.PaymentCreated{ID: oid(), OrderID: oid(), StripeID: "ch"}, meta)
		}, poison},
		{"expiration of an unknown order", func() error {
			return expired(ctx, events.ExpirationComplete{OrderID: oid()}, meta)
		}, poison},
		{"expiration", func() error { return expired(ctx, events.ExpirationComplete{OrderID: open.ID}, meta) }, ack},
		{"expiration again", func() error { return expired(ctx, events.ExpirationComplete{OrderID: open.ID}, meta) }, ack},
		{"payment for the cancelled order", func() error {
			return paid(ctx, events.PaymentCreated{ID: oid(), OrderID: open.ID, StripeID: "ch"}, meta)
		}, ack},
		{"reserve again", func() (err error) {
			other, err = svc.Reserve(ctx, oid(), ticketID)
			return err
		}, ack},
		{"payment", func() error {
			return paid(ctx, events.PaymentCreated{ID: oid(), OrderID: other.ID, StripeID: "ch"}, meta)
		}, ack},
		{"payment again", func() error {
			return paid(ctx, events.PaymentCreated{ID: oid(), OrderID: other.ID, StripeID: "ch"}, meta)
		}, ack},
		{"expiration of the paid order", func() error {
			return expired(ctx, events.ExpirationComplete{OrderID: other.ID}, meta)
		}, ack},
	}
	for _, st := range steps {
		err := st.run()
		assert.Equal(t, st.want, outcomeOf(err), "%s: %v", st.name, err)
	}

	got, err := tickets.Get(ctx, ticketID)
	require.NoError(t, err)
	assert.Equal(t, order.Ticket{ID: ticketID, Title: "t", Price: 12, Version: 2}, got)
	first, err := orders.Get(ctx, open.ID)
	require.NoError(t, err)
	assert.Equal(t, order.StatusCancelled, first.Status)
	assert.Equal(t, int64(1), first.Version)
	second, err := orders.Get(ctx, other.ID)
	require.NoError(t, err)
	assert.Equal(t, order.StatusComplete, second.Status)
	assert.Equal(t, int64(1), second.Version)
}

// Duplicate deliveries of one update handled at the same moment (several
// workers, or two replicas of the service): one applies it, the others see
// it applied; none fails.
func TestConcurrentDuplicateUpdates(t *testing.T) {
	ctx := context.Background()
	db := testkit.MongoDB(t)
	tickets := store.NewTickets(db)
	svc, err := order.NewService(order.Config{Orders: store.NewOrders(db, nil), Tickets: tickets, Holds: store.NewHolds(db)})
	require.NoError(t, err)
	ticketUpdated := listeners.TicketUpdated(svc)
	id, seller := oid(), oid()
	require.NoError(t, listeners.TicketCreated(svc)(ctx, events.TicketCreated{ID: id, Title: "t", Price: 1, UserID: seller}, events.Meta{}))

	const copies = 8
	errs := make(chan error, copies)
	gate := make(chan struct{})
	for range copies {
		go func() {
			<-gate
			errs <- ticketUpdated(ctx, events.TicketUpdated{ID: id, Version: 1, Title: "new", Price: 2, UserID: seller}, events.Meta{})
		}()
	}
	close(gate)
	for range copies {
		select {
		case err := <-errs:
			assert.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Fatal("handler did not return")
		}
	}
	got, err := tickets.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, order.Ticket{ID: id, Title: "new", Price: 2, Version: 1}, got)
}

// Every event of a ticket's life delivered at once and twice over, in no
// order, as several workers would take them: the replica ends at the newest
// version, and no delivery fails.
func TestConcurrentEventsInAnyOrder(t *testing.T) {
	ctx := context.Background()
	db := testkit.MongoDB(t)
	tickets := store.NewTickets(db)
	svc, err := order.NewService(order.Config{Orders: store.NewOrders(db, nil), Tickets: tickets, Holds: store.NewHolds(db)})
	require.NoError(t, err)
	ticketCreated, ticketUpdated := listeners.TicketCreated(svc), listeners.TicketUpdated(svc)
	id, seller := oid(), oid()

	const last, copies = 5, 2
	var deliveries []func() error
	for range copies {
		deliveries = append(deliveries, func() error {
			return ticketCreated(ctx, events.TicketCreated{ID: id, Title: "v0", Price: 10, UserID: seller}, events.Meta{})
		})
		for v := int64(1); v <= last; v++ {
			deliveries = append(deliveries, func() error {
				return ticketUpdated(ctx, events.TicketUpdated{ID: id, Version: v, Title: fmt.Sprint("v", v), Price: float64(10 + v), UserID: seller}, events.Meta{})
			})
		}
	}
	errs := make(chan error, len(deliveries))
	gate := make(chan struct{})
	for _, d := range deliveries {
		go func() {
			<-gate
			errs <- d()
		}()
	}
	close(gate)
	for range deliveries {
		select {
		case err := <-errs:
			assert.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Fatal("handler did not return")
		}
	}
	got, err := tickets.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, order.Ticket{ID: id, Title: fmt.Sprint("v", last), Price: 10 + last, Version: last}, got)
}
