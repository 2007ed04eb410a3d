package events

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMsgIDNamesOneEvent(t *testing.T) {
	t.Parallel()
	const id, other = "000000000000000000000001", "000000000000000000000002"
	tests := []struct {
		name    string
		payload any
		subject Subject
		want    string
	}{
		{"versioned record", TicketUpdated{ID: id, Version: 3, Title: "t", Price: 1, UserID: other, OrderID: other}, SubjectTicketUpdated, "ticket:updated/" + id + "/3"},
		{"version 0 counts", OrderCreated{ID: id, UserID: other, ExpiresAt: time.Unix(0, 0).UTC()}, SubjectOrderCreated, "order:created/" + id + "/0"},
		{"one per order", ExpirationComplete{OrderID: id}, SubjectExpirationComplete, "expiration:complete/" + id},
		{"payment's own id", PaymentCreated{ID: id, OrderID: other, StripeID: "ch_1"}, SubjectPaymentCreated, "payment:created/" + id},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := json.Marshal(tt.payload)
			require.NoError(t, err)
			assert.Equal(t, tt.want, MsgID(string(tt.subject), data))
		})
	}
	assert.Empty(t, MsgID("ticket:created", []byte(`{not json`)), "no id: never taken for a duplicate")
	assert.Empty(t, MsgID("ticket:created", []byte(`{"title":"t"}`)))
}
