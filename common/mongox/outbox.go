package mongox

import (
	"encoding/json"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/ticketing/common/events"
)

// OutboxEvent is one pending event stored in a record's "outbox" array until
// the relay has published it. Data is the JSON text of the payload, kept as a
// string so that the stored bytes are exactly the bytes published.
type OutboxEvent struct {
	// ID identifies the event within the outbox, so the relay removes exactly
	// the event it published and never one appended meanwhile.
	ID      string `bson:"id" json:"id"`
	Subject string `bson:"subject" json:"subject"`
	Data    string `bson:"data" json:"data"`
}

// Outbox validates and encodes events for a record's outbox: a payload its
// listeners would refuse is refused before it is stored, rather than
// published and then dropped as poison by every listener.
func Outbox(evs ...events.Payload) ([]OutboxEvent, error) {
	box := make([]OutboxEvent, 0, len(evs))
	for _, p := range evs {
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("mongox: refusing to store event: %w", err)
		}
		ev, err := NewOutboxEvent(string(p.Subject()), p)
		if err != nil {
			return nil, err
		}
		box = append(box, ev)
	}
	return box, nil
}

// NewOutboxEvent marshals payload to JSON and gives it a fresh id. A payload
// that already is JSON text can be passed as json.RawMessage.
func NewOutboxEvent(subject string, payload any) (OutboxEvent, error) {
	if subject == "" {
		return OutboxEvent{}, errors.New("mongox: outbox event needs a subject")
	}
	data, err := json.Marshal(payload)
	if err != nil {
		return OutboxEvent{}, fmt.Errorf("mongox: marshal %s payload: %w", subject, err)
	}
	return OutboxEvent{ID: primitive.NewObjectID().Hex(), Subject: subject, Data: string(data)}, nil
}
