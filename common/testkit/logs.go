package testkit

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

// LogBuffer collects a service's JSON log lines, written from many
// goroutines, so a test can wait for what the service says it did.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// NewLogger is a debug-level JSON logger writing into a LogBuffer.
func NewLogger() (*slog.Logger, *LogBuffer) {
	buf := &LogBuffer{}
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Records decodes the lines written so far. Wait conditions call it from
// goroutines of their own, so a line that is not JSON is reported with
// assert, not require, and skipped.
func (l *LogBuffer) Records(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(l.String()) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		var rec map[string]any
		if assert.NoError(t, json.Unmarshal([]byte(line), &rec), line) {
			out = append(out, rec)
		}
	}
	return out
}

// Count is how many records have a message starting with msg and every
// attribute in attrs: a string attribute matches when the record's value
// contains it, any other must be equal (JSON numbers decode as float64).
// Matching messages by prefix keeps a test from pinning their wording.
func (l *LogBuffer) Count(t testing.TB, msg string, attrs map[string]any) int {
	t.Helper()
	n := 0
	for _, rec := range l.Records(t) {
		if m, _ := rec["msg"].(string); strings.HasPrefix(m, msg) && hasAttrs(rec, attrs) {
			n++
		}
	}
	return n
}

// Has reports whether some record matches as for Count.
func (l *LogBuffer) Has(t testing.TB, msg string, attrs map[string]any) bool {
	t.Helper()
	return l.Count(t, msg, attrs) > 0
}

func hasAttrs(rec, attrs map[string]any) bool {
	for k, want := range attrs {
		got := rec[k]
		if ws, ok := want.(string); ok {
			if gs, ok := got.(string); !ok || !strings.Contains(gs, ws) {
				return false
			}
		} else if got != want {
			return false
		}
	}
	return true
}
