package ticket

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sortedIDs against a plain sorted slice, over inserts and removals in
// random order, enough to split chunks many times.
func TestSortedIDsMatchesASortedSlice(t *testing.T) {
	tests := []struct {
		name string
		n    int
		seed uint64
	}{
		{"empty", 0, 1},
		{"within one chunk", 100, 2},
		{"many chunks", 5 * chunkSize, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(tt.seed, tt.seed))
			var s sortedIDs
			want := map[string]bool{}
			for i := range tt.n * 2 {
				id := fmt.Sprintf("%024x", r.IntN(tt.n+1))
				if i%3 == 2 {
					s.remove(id)
					delete(want, id)
				} else {
					s.insert(id)
					want[id] = true
				}
			}
			var sorted []string
			for id := range want {
				sorted = append(sorted, id)
			}
			slices.Sort(sorted)
			require.Equal(t, len(sorted), s.len())
			for _, c := range s.chunks {
				require.NotEmpty(t, c)
				require.LessOrEqual(t, len(c), chunkSize)
			}

			desc := func(before string, limit int) []string {
				var out []string
				s.descending(before, func(id string) bool {
					out = append(out, id)
					return len(out) < limit
				})
				return out
			}
			wantDesc := func(before string, limit int) []string {
				var out []string
				for i := len(sorted) - 1; i >= 0 && len(out) < limit; i-- {
					if before == "" || sorted[i] < before {
						out = append(out, sorted[i])
					}
				}
				return out
			}
			for _, before := range []string{"", fmt.Sprintf("%024x", 0), fmt.Sprintf("%024x", tt.n/2), fmt.Sprintf("%024x", tt.n+5)} {
				for _, limit := range []int{1, 7, tt.n + 10} {
					assert.Equal(t, wantDesc(before, limit), desc(before, limit), "before %s limit %d", before, limit)
				}
			}
		})
	}
}
