package boot_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/boot"
	"github.com/ticketing/common/events"
	"github.com/ticketing/common/session"
	"github.com/ticketing/common/testkit"
)

func TestOpen(t *testing.T) {
	bus := testkit.NATS(t)
	js := testkit.NATS(t, testkit.WithBus(events.BusJetStream))
	db := testkit.MongoDB(t)
	natsCfg := func() events.Config {
		return events.Config{URL: bus.URL(), ClusterID: testkit.NATSClusterID, ClientID: testkit.UniqueClientID(t)}
	}
	tests := []struct {
		name             string
		settings         boot.Settings
		wantDB           string // "" = no Mongo
		wantNATS, wantSM bool
	}{
		{"every part, database from the URI", boot.Settings{
			MongoURI: testkit.MongoURI(t, db.Name()), NATS: natsCfg(), Session: session.Config{Key: []byte("k")},
		}, db.Name(), true, true},
		{"no database in the URI: the service's name", boot.Settings{MongoURI: testkit.MongoURI(t, "")}, "svc", false, false},
		{"NATS only", boot.Settings{NATS: natsCfg()}, "", true, false},
		{"JetStream only", boot.Settings{NATS: events.Config{
			Bus: events.BusJetStream, URL: js.URL(), ClientID: testkit.UniqueClientID(t),
		}}, "", true, false},
		{"nothing", boot.Settings{}, "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := boot.Open(t.Context(), "svc", tt.settings, slog.New(slog.DiscardHandler))
			require.NoError(t, err)
			if tt.wantDB != "" {
				require.NotNil(t, c.DB)
				assert.Equal(t, tt.wantDB, c.DB.Name())
				require.NoError(t, c.Mongo.Ping(t.Context(), nil))
			} else {
				assert.Nil(t, c.Mongo)
				assert.Nil(t, c.DB)
			}
			assert.Equal(t, tt.wantNATS, c.Events != nil)
			if tt.wantNATS {
				assert.True(t, c.Events.Connected())
			}
			assert.Equal(t, tt.wantSM, c.Sessions != nil)

			require.NoError(t, c.Close())
			if c.Mongo != nil {
				assert.Error(t, c.Mongo.Ping(context.Background(), nil), "Mongo is disconnected")
			}
			if c.Events != nil {
				assert.False(t, c.Events.Connected(), "NATS is closed")
			}
			assert.NoError(t, c.Close(), "closing again is harmless")
		})
	}
}

// A NATS that never answers fails Open once ctx ends, naming where it
// tried, even after Mongo was reached.
func TestOpenGivesUpWhenAsked(t *testing.T) {
	db := testkit.MongoDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := boot.Open(ctx, "svc", boot.Settings{
		MongoURI: testkit.MongoURI(t, db.Name()),
		NATS:     events.Config{URL: "nats://127.0.0.1:1", ClusterID: "ticketing", ClientID: "x"},
	}, slog.New(slog.DiscardHandler))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nats://127.0.0.1:1")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
