package ids

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIsObjectID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"0123456789abcdef01234567", true},
		{"0123456789ABCDEF01234567", true},
		{"0123456789abcdef0123456", false},   // 23
		{"0123456789abcdef012345678", false}, // 25
		{"0123456789abcdef0123456g", false},
		{"", false},
		{"0123456789abcdef 1234567", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, IsObjectID(tt.id), "%q", tt.id)
	}
}
