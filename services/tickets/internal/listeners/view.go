package listeners

import (
	"context"
	"errors"
	"log/slog"

	"github.com/ticketing/common/events"
	"github.com/ticketing/services/tickets/internal/ticket"
)

// WatchTickets feeds the service's view of the tickets for sale with the
// ticket events of every copy of the service, its own included: a watch,
// not a queue group, so each copy hears every event and the copies' views
// converge. Start it before the view's Load. On failure the watcher already
// started is closed.
func WatchTickets(conn *events.Conn, tickets *ticket.Service, logger *slog.Logger) ([]*events.Watcher, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	created, err := events.Watch(conn, func(ctx context.Context, msg events.TicketCreated, _ events.Meta) error {
		return tickets.Heard(ctx, ticket.Ticket{ID: msg.ID, Title: msg.Title, Price: msg.Price, UserID: msg.UserID, Version: msg.Version})
	}, events.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	updated, err := events.Watch(conn, func(ctx context.Context, msg events.TicketUpdated, _ events.Meta) error {
		return tickets.Heard(ctx, ticket.Ticket{
			ID: msg.ID, Title: msg.Title, Price: msg.Price, UserID: msg.UserID, Version: msg.Version, OrderID: msg.OrderID,
			Withdrawn: msg.Withdrawn,
		})
	}, events.WithLogger(logger))
	if err != nil {
		return nil, errors.Join(err, created.Close())
	}
	return []*events.Watcher{created, updated}, nil
}
