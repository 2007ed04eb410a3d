package boot

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRequireDeps(t *testing.T) {
	tests := []struct {
		name string
		deps []Dep
		want string
	}{
		{"all there", []Dep{{"DB", false}, {"Events", false}}, ""},
		{"none asked", nil, ""},
		{"one missing", []Dep{{"DB", false}, {"Events", true}}, "orders app: missing dependencies [Events]"},
		{"every missing one, in order", []Dep{{"DB", true}, {"Events", false}, {"Sessions", true}}, "orders app: missing dependencies [DB Sessions]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := RequireDeps("orders app", tt.deps...)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.EqualError(t, err, tt.want)
		})
	}
}
