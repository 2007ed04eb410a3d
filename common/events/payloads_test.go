package events_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/events"
)

// oid makes a valid 24-hex id that is easy to tell apart in failures.
func oid(n int) string { return fmt.Sprintf("%024x", n) }

func TestPayloadJSONRoundTrip(t *testing.T) {
	// A non-UTC zone and sub-millisecond digits check that ExpiresAt goes out
	// in UTC with exactly three fractional digits.
	zone := time.FixedZone("UTC+2", 2*60*60)
	expires := time.Date(2026, 1, 2, 5, 4, 5, 678_912_345, zone)

	tests := []struct {
		name    string
		payload events.Payload
		subject events.Subject
		json    string
		decode  func([]byte) (events.Payload, error)
		// want is the decoded value when it differs from payload (time precision).
		want events.Payload
	}{
		{
			name:    "ticket created",
			payload: events.TicketCreated{ID: oid(1), Version: 0, Title: "concert", Price: 20.5, UserID: oid(2)},
			subject: "ticket:created",
			json:    `{"id":"000000000000000000000001","version":0,"title":"concert","price":20.5,"userId":"000000000000000000000002"}`,
			decode:  decodeAs[events.TicketCreated],
		},
		{
			name:    "ticket updated, reserved",
			payload: events.TicketUpdated{ID: oid(1), Version: 3, Title: "concert", Price: 15, UserID: oid(2), OrderID: oid(3)},
			subject: "ticket:updated",
			json:    `{"id":"000000000000000000000001","version":3,"title":"concert","price":15,"userId":"000000000000000000000002","orderId":"000000000000000000000003"}`,
			decode:  decodeAs[events.TicketUpdated],
		},
		{
			name:    "ticket updated, not reserved omits orderId",
			payload: events.TicketUpdated{ID: oid(1), Version: 4, Title: "concert", Price: 15, UserID: oid(2)},
			subject: "ticket:updated",
			json:    `{"id":"000000000000000000000001","version":4,"title":"concert","price":15,"userId":"000000000000000000000002"}`,
			decode:  decodeAs[events.TicketUpdated],
		},
		{
			name: "order created",
			payload: events.OrderCreated{ID: oid(3), Version: 0, Status: events.OrderStatusCreated, UserID: oid(2),
				ExpiresAt: expires, Ticket: events.OrderCreatedTicket{ID: oid(1), Price: 20.5}},
			subject: "order:created",
			json:    `{"id":"000000000000000000000003","version":0,"status":"created","userId":"000000000000000000000002","expiresAt":"2026-01-02T03:04:05.678Z","ticket":{"id":"000000000000000000000001","price":20.5}}`,
			decode:  decodeAs[events.OrderCreated],
			want: events.OrderCreated{ID: oid(3), Version: 0, Status: "created", UserID: oid(2),
				ExpiresAt: time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC), Ticket: events.OrderCreatedTicket{ID: oid(1), Price: 20.5}},
		},
		{
			name: "order created, whole second keeps three digits",
			payload: events.OrderCreated{ID: oid(3), Version: 0, Status: events.OrderStatusAwaitingPayment, UserID: oid(2),
				ExpiresAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Ticket: events.OrderCreatedTicket{ID: oid(1), Price: 1}},
			subject: "order:created",
			json:    `{"id":"000000000000000000000003","version":0,"status":"awaiting:payment","userId":"000000000000000000000002","expiresAt":"2026-01-02T03:04:05.000Z","ticket":{"id":"000000000000000000000001","price":1}}`,
			decode:  decodeAs[events.OrderCreated],
		},
		{
			name:    "order cancelled",
			payload: events.OrderCancelled{ID: oid(3), Version: 1, Ticket: events.OrderCancelledTicket{ID: oid(1)}},
			subject: "order:cancelled",
			json:    `{"id":"000000000000000000000003","version":1,"ticket":{"id":"000000000000000000000001"}}`,
			decode:  decodeAs[events.OrderCancelled],
		},
		{
			name:    "expiration complete",
			payload: events.ExpirationComplete{OrderID: oid(3)},
			subject: "expiration:complete",
			json:    `{"orderId":"000000000000000000000003"}`,
			decode:  decodeAs[events.ExpirationComplete],
		},
		{
			name:    "payment created",
			payload: events.PaymentCreated{ID: oid(4), OrderID: oid(3), StripeID: "ch_123"},
			subject: "payment:created",
			json:    `{"id":"000000000000000000000004","orderId":"000000000000000000000003","stripeId":"ch_123"}`,
			decode:  decodeAs[events.PaymentCreated],
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.subject, tt.payload.Subject())
			require.NoError(t, tt.payload.Validate())

			data, err := json.Marshal(tt.payload)
			require.NoError(t, err)
			// Exact text, not JSONEq: field order and number format are what
			// other services and the Node edition see.
			assert.Equal(t, tt.json, string(data))

			got, err := tt.decode(data)
			require.NoError(t, err)
			want := tt.want
			if want == nil {
				want = tt.payload
			}
			assert.Equal(t, want, got)
		})
	}
}

func decodeAs[T events.Payload](data []byte) (events.Payload, error) {
	return events.Decode[T](data)
}

func TestDecodeAcceptsNodeEditionTimes(t *testing.T) {
	// Date.toISOString() output, as the Node edition publishes it.
	data := `{"id":"000000000000000000000003","version":0,"status":"created","userId":"000000000000000000000002","expiresAt":"2026-01-02T03:04:05.678Z","ticket":{"id":"000000000000000000000001","price":20}}`
	got, err := events.Decode[events.OrderCreated]([]byte(data))
	require.NoError(t, err)
	assert.True(t, got.ExpiresAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)))
}

func TestDecodeRejectsInvalidPayloads(t *testing.T) {
	validOrderCreated := func(mutate func(map[string]any)) string {
		m := map[string]any{
			"id": oid(3), "version": 0, "status": "created", "userId": oid(2),
			"expiresAt": "2026-01-02T03:04:05.678Z", "ticket": map[string]any{"id": oid(1), "price": 20},
		}
		mutate(m)
		b, err := json.Marshal(m)
		require.NoError(t, err)
		return string(b)
	}
	tests := []struct {
		name    string
		decode  func([]byte) (events.Payload, error)
		body    string
		problem string // part of the error text that names the fault
	}{
		{"not JSON", decodeAs[events.TicketCreated], `not json`, "not a JSON object"},
		{"truncated JSON", decodeAs[events.TicketCreated], `{"id":"000000000000000000000001"`, "ticket:created"},
		{"JSON null", decodeAs[events.TicketCreated], `null`, "not a JSON object"},
		{"JSON array", decodeAs[events.PaymentCreated], `[1,2]`, "not a JSON object"},
		{"wrong field type", decodeAs[events.TicketCreated], `{"id":1}`, "ticket:created"},
		{"empty object", decodeAs[events.ExpirationComplete], `{}`, "orderId: is required"},
		{"id not hex", decodeAs[events.TicketCreated],
			`{"id":"zz0000000000000000000001","version":0,"title":"t","price":1,"userId":"000000000000000000000002"}`, "id: \"zz0000000000000000000001\" is not a 24-hex id"},
		{"id too short", decodeAs[events.OrderCancelled],
			`{"id":"abc","version":1,"ticket":{"id":"000000000000000000000001"}}`, "is not a 24-hex id"},
		{"version missing", decodeAs[events.TicketUpdated],
			`{"id":"000000000000000000000001","title":"t","price":1,"userId":"000000000000000000000002"}`, "version: is required"},
		{"version null", decodeAs[events.OrderCancelled],
			`{"id":"000000000000000000000003","version":null,"ticket":{"id":"000000000000000000000001"}}`, "version: is required"},
		{"version negative", decodeAs[events.TicketCreated],
			`{"id":"000000000000000000000001","version":-1,"title":"t","price":1,"userId":"000000000000000000000002"}`, "version: -1 is negative"},
		{"price missing", decodeAs[events.TicketCreated],
			`{"id":"000000000000000000000001","version":0,"title":"t","userId":"000000000000000000000002"}`, "price: must be greater than 0"},
		{"title blank", decodeAs[events.TicketCreated],
			`{"id":"000000000000000000000001","version":0,"title":"  ","price":1,"userId":"000000000000000000000002"}`, "title: is required"},
		{"orderId not hex", decodeAs[events.TicketUpdated],
			`{"id":"000000000000000000000001","version":1,"title":"t","price":1,"userId":"000000000000000000000002","orderId":"x"}`, "orderId"},
		{"expiresAt missing", decodeAs[events.OrderCreated], validOrderCreated(func(m map[string]any) { delete(m, "expiresAt") }), "expiresAt: is required"},
		{"expiresAt not a time", decodeAs[events.OrderCreated], validOrderCreated(func(m map[string]any) { m["expiresAt"] = "tomorrow" }), "order:created"},
		{"unknown status", decodeAs[events.OrderCreated], validOrderCreated(func(m map[string]any) { m["status"] = "paid" }), `unknown status "paid"`},
		{"ticket missing", decodeAs[events.OrderCreated], validOrderCreated(func(m map[string]any) { delete(m, "ticket") }), "ticket.id: is required"},
		{"stripeId missing", decodeAs[events.PaymentCreated],
			`{"id":"000000000000000000000004","orderId":"000000000000000000000003"}`, "stripeId: is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.decode([]byte(tt.body))
			require.Error(t, err)
			assert.ErrorIs(t, err, events.ErrInvalidPayload)
			assert.Contains(t, err.Error(), tt.problem)
		})
	}
}

func TestDecodeReportsEveryProblem(t *testing.T) {
	_, err := events.Decode[events.PaymentCreated]([]byte(`{"id":"1"}`))
	require.ErrorIs(t, err, events.ErrInvalidPayload)
	assert.Contains(t, err.Error(), "id: \"1\" is not a 24-hex id")
	assert.Contains(t, err.Error(), "orderId: is required")
	assert.Contains(t, err.Error(), "stripeId: is required")
}

// OrderCreated.MarshalJSON lists the fields by hand; this catches a field
// added to the struct but not to the JSON.
func TestOrderCreatedMarshalsEveryField(t *testing.T) {
	data, err := json.Marshal(events.OrderCreated{})
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(data, &got))

	typ := reflect.TypeFor[events.OrderCreated]()
	var want []string
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		want = append(want, name)
	}
	assert.ElementsMatch(t, want, slices.Collect(maps.Keys(got)))
}
