package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLineWriter(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string // after Flush
	}{
		{"one line", []string{"hello\n"}, "[auth] hello\n"},
		{"line split across writes", []string{"hel", "lo\nwor", "ld\n"}, "[auth] hello\n[auth] world\n"},
		{"several lines in one write", []string{"a\nb\nc\n"}, "[auth] a\n[auth] b\n[auth] c\n"},
		{"unterminated last line is flushed", []string{"a\nb"}, "[auth] a\n[auth] b\n"},
		{"empty line keeps its prefix", []string{"\n"}, "[auth] \n"},
		{"overlong line is cut", []string{strings.Repeat("x", maxLineLen)}, "[auth] " + strings.Repeat("x", maxLineLen) + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			w := newLineWriter(&syncWriter{w: &out}, "auth")
			for _, s := range tt.writes {
				n, err := w.Write([]byte(s))
				assert.NoError(t, err)
				assert.Equal(t, len(s), n)
			}
			w.Flush()
			assert.Equal(t, tt.want, out.String())
		})
	}
}
