package mongox_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/ticketing/common/events"
	"github.com/ticketing/common/mongox"
)

func TestNewOutboxEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		subject  string
		payload  any
		wantData string
		wantErr  bool
	}{
		{"struct", "ticket:created", versionEvent{ID: "abc", Version: 2}, `{"id":"abc","version":2}`, false},
		{"map", "expiration:complete", map[string]string{"orderId": "o1"}, `{"orderId":"o1"}`, false},
		{"JSON text as RawMessage", "order:cancelled", json.RawMessage(`{"id": "o1"}`), `{"id":"o1"}`, false},
		{"no subject", "", versionEvent{}, "", true},
		{"not marshalable", "ticket:created", make(chan int), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := mongox.NewOutboxEvent(tt.subject, tt.payload)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.subject, ev.Subject)
			assert.JSONEq(t, tt.wantData, ev.Data)
			assert.True(t, primitive.IsValidObjectID(ev.ID), "id %q", ev.ID)
		})
	}

	a, err := mongox.NewOutboxEvent("s", 1)
	require.NoError(t, err)
	b, err := mongox.NewOutboxEvent("s", 1)
	require.NoError(t, err)
	assert.NotEqual(t, a.ID, b.ID, "every event gets its own id")
}

// The stored field names are part of what the relay queries.
func TestOutboxEventBSONNames(t *testing.T) {
	t.Parallel()
	raw, err := bson.Marshal(mongox.OutboxEvent{ID: "i", Subject: "s", Data: `{"a":1}`})
	require.NoError(t, err)
	var m bson.M
	require.NoError(t, bson.Unmarshal(raw, &m))
	assert.Equal(t, bson.M{"id": "i", "subject": "s", "data": `{"a":1}`}, m)
}

// Outbox encodes each event under its subject, and refuses the whole batch
// when one payload is one its listeners would drop as poison.
func TestOutbox(t *testing.T) {
	t.Parallel()
	id := primitive.NewObjectID().Hex()
	good := events.ExpirationComplete{OrderID: id}
	bad := events.ExpirationComplete{OrderID: "not an id"}

	box, err := mongox.Outbox(good, events.OrderCancelled{ID: id, Version: 1, Ticket: events.OrderCancelledTicket{ID: id}})
	require.NoError(t, err)
	require.Len(t, box, 2)
	assert.Equal(t, "expiration:complete", box[0].Subject)
	assert.JSONEq(t, `{"orderId":"`+id+`"}`, box[0].Data)
	assert.Equal(t, "order:cancelled", box[1].Subject)
	assert.NotEqual(t, box[0].ID, box[1].ID)

	_, err = mongox.Outbox(good, bad)
	assert.Error(t, err)

	box, err = mongox.Outbox()
	require.NoError(t, err)
	assert.Empty(t, box)
}
