package scenario

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/tools/loadgen/client"
)

func TestLapsesPicksThatShareOfWinnersEvenly(t *testing.T) {
	tests := []struct {
		percent, winners, want int
		first                  int // index of the first winner who lapses; -1 for none
	}{
		{percent: 20, winners: 500, want: 100, first: 4},
		{percent: 20, winners: 7, want: 1, first: 4},
		{percent: 0, winners: 100, want: 0, first: -1},
		{percent: 100, winners: 9, want: 9, first: 0},
		{percent: 33, winners: 100, want: 33, first: 3},
	}
	for _, tt := range tests {
		got, first := 0, -1
		for k := range tt.winners {
			if lapses(k, tt.percent) {
				got++
				if first < 0 {
					first = k
				}
			}
		}
		assert.Equal(t, tt.want, got, "%d%% of %d", tt.percent, tt.winners)
		assert.Equal(t, tt.first, first, "%d%% of %d", tt.percent, tt.winners)
	}
}

func TestArrivalOffsetSpreadsTheCrowdOverTheWindow(t *testing.T) {
	tests := []struct {
		i, n   int
		window time.Duration
		want   time.Duration
	}{
		{0, 5000, time.Second, 0},
		{2500, 5000, time.Second, 500 * time.Millisecond},
		{4999, 5000, time.Second, 999800 * time.Microsecond},
		{3, 4, 0, 0},
		{0, 0, time.Second, 0},
	}
	for _, tt := range tests {
		got := arrivalOffset(tt.i, tt.n, tt.window)
		assert.Equal(t, tt.want, got, "buyer %d of %d", tt.i, tt.n)
		assert.Less(t, got, max(tt.window, 1), "everyone arrives within the window")
	}
}

func TestRushBookFlagsASecondWinnerWhileTheFirstHolds(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	order := func(id string, expires time.Time) client.Order {
		return client.Order{ID: id, ExpiresAt: expires}
	}
	tests := []struct {
		name       string
		paid       bool
		complete   bool
		firstEnds  time.Time
		secondAt   time.Time
		wantDouble bool
	}{
		{"hold still running", false, false, now.Add(10 * time.Second), now.Add(time.Second), true},
		{"complete, even after its hold", true, true, now.Add(10 * time.Second), now.Add(20 * time.Second), true},
		// Payments refunds a payment that lost to the hold's end.
		{"paid but not complete when its hold ended", true, false, now.Add(10 * time.Second), now.Add(11 * time.Second), false},
		{"hold lapsed first", false, false, now.Add(10 * time.Second), now.Add(11 * time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &rushBook{tickets: map[string]*rushTicket{"t1": {id: "t1"}}}
			require.Empty(t, b.won("t1", order("o1", tt.firstEnds), now), "the first winner is no double sale")
			if tt.paid {
				b.update("t1", func(rt *rushTicket) { rt.paid = true })
			}
			if tt.complete {
				require.Empty(t, b.sold("t1", "o1", now.Add(time.Second)))
			}
			double := b.won("t1", order("o2", tt.secondAt.Add(10*time.Second)), tt.secondAt)
			if tt.wantDouble {
				assert.Contains(t, double, "double sale: ticket t1 won by order o2 while order o1 held it")
			} else {
				assert.Empty(t, double)
			}
		})
	}
}

func TestRushBookFlagsAnOrderCompletingAfterAnotherWon(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	b := &rushBook{tickets: map[string]*rushTicket{"t1": {id: "t1"}}}
	require.Empty(t, b.won("t1", client.Order{ID: "o1", ExpiresAt: now.Add(10 * time.Second)}, now))
	require.Empty(t, b.won("t1", client.Order{ID: "o2", ExpiresAt: now.Add(21 * time.Second)}, now.Add(11*time.Second)))

	assert.Contains(t, b.sold("t1", "o1", now.Add(12*time.Second)),
		"double sale: order o1 for ticket t1 completed after order o2 won the ticket")
	assert.Empty(t, b.sold("t1", "o2", now.Add(13*time.Second)), "the current winner completing is the sale")
}
