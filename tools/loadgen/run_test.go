package main

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/tools/loadgen/scenario"
)

func TestParseFlagsRushSeedAndBrowse(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
		check   func(t *testing.T, c config)
	}{
		{
			name: "defaults leave the rush out and size it for 5,000 buyers",
			args: nil,
			check: func(t *testing.T, c config) {
				assert.Equal(t, []string{"browse", "purchase", "race", "edits"}, c.scenarios)
				assert.Equal(t, scenario.RushOptions{Buyers: 5000, Tickets: 500, Arrival: time.Second, LapsePercent: 20, Tries: 3,
					Poll: 100 * time.Millisecond, SignUpWidth: 8}, c.rush)
				assert.Zero(t, c.seedTickets)
				assert.Equal(t, 100, c.browseLimit)
			},
		},
		{
			name: "rush by name, its options reach the scenario, its crowd sizes the pool",
			args: []string{"-scenarios", "rush", "-rush-buyers", "500", "-rush-tickets", "50", "-rush-lapse", "10", "-rush-arrival", "2s", "-rush-list-limit", "200"},
			check: func(t *testing.T, c config) {
				assert.Equal(t, []string{"rush"}, c.scenarios)
				o := c.options(scenario.Rush)
				assert.Equal(t, 500, o.Rush.Buyers)
				assert.Equal(t, 50, o.Rush.Tickets)
				assert.Equal(t, 10, o.Rush.LapsePercent)
				assert.Equal(t, 2*time.Second, o.Rush.Arrival)
				assert.Equal(t, 200, o.Rush.ListLimit)
				assert.Equal(t, 500, c.connections())
			},
		},
		{
			name: "edits in flight size the pool",
			args: []string{"-scenarios", "edits", "-edits", "10000"},
			check: func(t *testing.T, c config) {
				assert.Equal(t, 10000, c.connections())
				o := c.options(scenario.Edits)
				assert.Equal(t, 10000, o.Concurrency)
				assert.Equal(t, 10000, o.Count)
			},
		},
		{
			name: "seed and browse page",
			args: []string{"-scenarios", "browse", "-seed-tickets", "100000", "-seed-concurrency", "24", "-browse-limit", "50"},
			check: func(t *testing.T, c config) {
				assert.Equal(t, 100000, c.seedTickets)
				assert.Equal(t, 24, c.seedConcurrency)
				assert.Equal(t, 50, c.options(scenario.Browse).BrowseLimit)
				assert.Equal(t, 24, c.connections(), "the seeders' connections count too")
			},
		},
		{
			name: "seed up to a total",
			args: []string{"-seed-tickets", "100000", "-seed-total", "-mongo", "mongodb://127.0.0.1:1/"},
			check: func(t *testing.T, c config) {
				assert.True(t, c.seedTotal)
				assert.NotContains(t, c.settings, "mongo", "a URI may carry a password")
			},
		},
		{name: "seed total without a database", args: []string{"-seed-tickets", "10", "-seed-total"}, wantErr: "-seed-total counts the stored tickets"},
		{name: "lapse over 100", args: []string{"-rush-lapse", "120"}, wantErr: "-rush-lapse is a percentage"},
		{name: "lapse negative", args: []string{"-rush-lapse", "-1"}, wantErr: "-rush-lapse is a percentage"},
		{name: "no buyers", args: []string{"-rush-buyers", "0"}, wantErr: "-rush-buyers must be positive"},
		{name: "no tickets", args: []string{"-rush-tickets", "0"}, wantErr: "-rush-tickets must be positive"},
		{name: "negative seed", args: []string{"-seed-tickets", "-5"}, wantErr: "-seed-tickets must not be negative"},
		{name: "no poll", args: []string{"-rush-poll", "0s"}, wantErr: "-rush-poll must be positive"},
		{name: "unknown scenario", args: []string{"-scenarios", "stampede"}, wantErr: `unknown scenario "stampede"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseFlags(tt.args, io.Discard)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestRaiseOpenFileLimitReachesWhatIsAsked(t *testing.T) {
	got, err := raiseOpenFileLimit(512)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, got, uint64(512))
}
