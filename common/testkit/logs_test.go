package testkit

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLogBufferCount(t *testing.T) {
	log, logs := NewLogger()
	log.Info("order cancel handled", "orderId", "abc123", "applied", true, "version", 2)
	log.Debug("order cancel handled", "orderId", "abc999", "applied", false, "version", 3)
	log.Warn("handler failed; leaving the message unacked", "subject", "ticket:updated")

	tests := []struct {
		name  string
		msg   string
		attrs map[string]any
		want  int
	}{
		{"by message", "order cancel handled", nil, 2},
		{"a message by its start", "handler failed", nil, 1},
		{"a string attribute by what it contains", "order cancel handled", map[string]any{"orderId": "abc"}, 2},
		{"a string attribute that differs", "order cancel handled", map[string]any{"orderId": "zzz"}, 0},
		{"other attributes exactly", "order cancel handled", map[string]any{"applied": false, "version": float64(3)}, 1},
		{"an attribute the record lacks", "handler failed", map[string]any{"orderId": "abc"}, 0},
		{"no such message", "nothing like it", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, logs.Count(t, tt.msg, tt.attrs))
			assert.Equal(t, tt.want > 0, logs.Has(t, tt.msg, tt.attrs))
		})
	}
	assert.Len(t, logs.Records(t), 3)
}
