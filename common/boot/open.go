package boot

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/common/events"
	"github.com/ticketing/common/mongox"
	"github.com/ticketing/common/session"
)

// ConnectTimeout bounds reaching Mongo, and then NATS, at start-up, so a
// service pointed at the wrong place fails (and its pod restarts) instead of
// hanging.
const ConnectTimeout = 30 * time.Second

// disconnectTimeout bounds the Mongo disconnect at Close, which runs after
// ctx has ended.
const disconnectTimeout = 5 * time.Second

// Conns is what Open made from Settings; a part the settings left out is nil.
type Conns struct {
	Mongo    *mongo.Client
	DB       *mongo.Database // the database MONGO_URI names, else one named after the service
	Events   *events.Conn
	Sessions *session.Manager
}

// Open makes the session manager, connects to Mongo and then to NATS
// (ConnectTimeout each, and never past ctx), for the parts s names. NATS
// logs through logger. On failure whatever was already open is closed again.
func Open(ctx context.Context, service string, s Settings, logger *slog.Logger) (*Conns, error) {
	c := &Conns{}
	if len(s.Session.Key) > 0 {
		m, err := session.NewManager(s.Session)
		if err != nil {
			return nil, err
		}
		c.Sessions = m
	}
	if s.MongoURI != "" {
		client, err := mongox.Connect(ctx, s.MongoURI, ConnectTimeout)
		if err != nil {
			return nil, err
		}
		c.Mongo = client
		// After Connect, which has already refused a malformed URI with an
		// error scrubbed of its password.
		name, err := mongox.DatabaseName(s.MongoURI, service)
		if err != nil {
			return nil, errors.Join(err, c.Close())
		}
		c.DB = client.Database(name)
	}
	if s.NATS.URL != "" {
		cfg := s.NATS
		cfg.Logger = logger
		nctx, cancel := context.WithTimeout(ctx, ConnectTimeout)
		conn, err := events.Connect(nctx, cfg)
		cancel()
		if err != nil {
			return nil, errors.Join(err, c.Close())
		}
		c.Events = conn
	}
	return c, nil
}

// Close closes NATS first (draining its subscriptions; its error is
// returned), then disconnects from Mongo. A failed disconnect is dropped:
// at exit nothing is left to do about it, and every write already answered
// is stored. Call it after the app that uses the connections is closed.
func (c *Conns) Close() error {
	var err error
	if c.Events != nil {
		err = c.Events.Close()
	}
	if c.Mongo != nil {
		dctx, cancel := context.WithTimeout(context.Background(), disconnectTimeout)
		defer cancel()
		_ = c.Mongo.Disconnect(dctx)
	}
	return err
}
