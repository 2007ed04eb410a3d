package chart

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNiceTicks(t *testing.T) {
	tests := []struct {
		name   string
		lo, hi float64
		n      int
		want   []float64
	}{
		{"zero to ten", 0, 10, 5, []float64{0, 2, 4, 6, 8, 10}},
		{"rounds the top up", 0, 93, 5, []float64{0, 20, 40, 60, 80, 100}},
		{"small values", 0, 0.7, 5, []float64{0, 0.2, 0.4, 0.6, 0.8}},
		{"no float noise", 0, 0.3, 3, []float64{0, 0.1, 0.2, 0.3}},
		{"offset start", 13, 57, 4, []float64{0, 20, 40, 60}},
		{"offset start, finer", 13, 57, 8, []float64{10, 20, 30, 40, 50, 60}},
		{"flat zero", 0, 0, 5, []float64{0, 1}},
		{"flat positive", 7, 7, 5, []float64{0, 2, 4, 6, 8}},
		{"reversed", 5, 1, 5, []float64{0, 1}},
		{"NaN", math.NaN(), 3, 5, []float64{0, 1}},
		{"large", 0, 2_345_000, 5, []float64{0, 500_000, 1_000_000, 1_500_000, 2_000_000, 2_500_000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, niceTicks(tt.lo, tt.hi, tt.n))
		})
	}
}

func TestSegmentsBreakAtGaps(t *testing.T) {
	xs := []float64{0, 1, 2, 3, 4}
	ys := []float64{1, math.NaN(), 3, 4}
	assert.Equal(t, [][][2]float64{{{0, 1}}, {{2, 3}, {3, 4}}}, segments(xs, ys),
		"a NaN and a missing tail value both break the line")
	assert.Nil(t, segments(nil, nil))
}
