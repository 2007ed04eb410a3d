package security

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/ticketing/common/events"
)

// decodeAs decodes data as the payload type of one subject and, when that
// succeeds, checks that the payload is valid and survives a round trip: a
// listener that accepted it publishes or stores what it read.
func decodeAs[T events.Payload](t *testing.T, data []byte) {
	msg, err := events.Decode[T](data)
	if err != nil {
		if !errors.Is(err, events.ErrInvalidPayload) {
			t.Fatalf("%s: an error that does not mark the message as poison: %v", msg.Subject(), err)
		}
		return
	}
	if err := msg.Validate(); err != nil {
		t.Fatalf("%s: Decode accepted what Validate refuses: %v", msg.Subject(), err)
	}
	again, err := json.Marshal(msg)
	if err != nil {
		t.Fatalf("%s: re-encode: %v", msg.Subject(), err)
	}
	back, err := events.Decode[T](again)
	if err != nil {
		t.Fatalf("%s: its own encoding does not decode: %v (%s)", msg.Subject(), err, again)
	}
	if !reflect.DeepEqual(normal(msg), normal(back)) {
		t.Fatalf("%s: round trip changed it:\n%#v\n%#v", msg.Subject(), msg, back)
	}
}

// normal drops what the wire format does not keep: a time's zone and
// anything below a millisecond.
func normal(p events.Payload) events.Payload {
	if o, ok := p.(events.OrderCreated); ok {
		o.ExpiresAt = o.ExpiresAt.UTC().Truncate(time.Millisecond)
		return o
	}
	return p
}

// FuzzEventDecode feeds every subject's decoder arbitrary message bodies:
// a body is either refused as poison (ErrInvalidPayload, so the listener
// acks and logs it) or valid and stable through a round trip. Never a panic.
func FuzzEventDecode(f *testing.F) {
	seeds := []string{
		`{"id":"64b7f0c2a1b2c3d4e5f60718","version":0,"title":"t","price":10,"userId":"64b7f0c2a1b2c3d4e5f60719"}`,
		`{"id":"64b7f0c2a1b2c3d4e5f60718","version":3,"title":"t","price":10.5,"userId":"64b7f0c2a1b2c3d4e5f60719","orderId":"64b7f0c2a1b2c3d4e5f6071a"}`,
		`{"id":"64b7f0c2a1b2c3d4e5f60718","version":0,"status":"created","userId":"64b7f0c2a1b2c3d4e5f60719","expiresAt":"2026-01-02T03:04:05.678Z","ticket":{"id":"64b7f0c2a1b2c3d4e5f6071a","price":20}}`,
		`{"id":"64b7f0c2a1b2c3d4e5f60718","version":1,"ticket":{"id":"64b7f0c2a1b2c3d4e5f6071a"}}`,
		`{"orderId":"64b7f0c2a1b2c3d4e5f60718"}`,
		`{"id":"64b7f0c2a1b2c3d4e5f60718","orderId":"64b7f0c2a1b2c3d4e5f60719","stripeId":"ch_1"}`,
		``, `null`, `[]`, `"x"`, `{}`, `{"version":-1}`, `{"version":1e400}`, `{"price":"NaN"}`, `{"expiresAt":"yesterday"}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	f.Fuzz(func(t *testing.T, subject uint8, data []byte) {
		switch subject % 6 {
		case 0:
			decodeAs[events.TicketCreated](t, data)
		case 1:
			decodeAs[events.TicketUpdated](t, data)
		case 2:
			decodeAs[events.OrderCreated](t, data)
		case 3:
			decodeAs[events.OrderCancelled](t, data)
		case 4:
			decodeAs[events.ExpirationComplete](t, data)
		default:
			decodeAs[events.PaymentCreated](t, data)
		}
	})
}
