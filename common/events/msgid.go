package events

import (
	"encoding/json"
	"strconv"
)

// MsgID is the Nats-Msg-Id JetStream de-duplicates publishes by: the
// subject, the record's id and, for versioned records, the version, which
// together name one event. expiration:complete carries only orderId and
// happens once per order; payment:created has no version and its id is the
// payment's own. It is derived from the encoded payload because the outbox
// relay publishes events it stored already encoded. A body that names no
// record (not JSON, say) gets no id and is never taken for a duplicate.
// The fault suite counts duplicate publishes on NATS Streaming by it too.
func MsgID(subject string, data []byte) string {
	var p struct {
		ID      string `json:"id"`
		OrderID string `json:"orderId"`
		Version *int64 `json:"version"`
	}
	if json.Unmarshal(data, &p) != nil {
		return ""
	}
	id := p.ID
	if id == "" {
		id = p.OrderID
	}
	if id == "" {
		return ""
	}
	if p.Version == nil {
		return subject + "/" + id
	}
	return subject + "/" + id + "/" + strconv.FormatInt(*p.Version, 10)
}
