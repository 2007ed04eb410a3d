package check_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ticketing/tools/loadgen/check"
	"github.com/ticketing/tools/loadgen/scenario"
)

func TestAgreeingNeedsTheReplicaAtTheFinalState(t *testing.T) {
	want := map[string]scenario.TicketRecord{
		"done":     {ID: "done", WantPrice: 15, WantVersion: 2},
		"behind":   {ID: "behind", WantPrice: 15, WantVersion: 2},
		"missing":  {ID: "missing", WantPrice: 15, WantVersion: 2},
		"retried":  {ID: "retried", WantPrice: 15, WantVersion: -1},
		"unjudged": {ID: "unjudged", WantVersion: -1}, // no final state known
	}
	tests := []struct {
		name    string
		replica map[string]check.Ticket
		want    []string
	}{
		{
			name: "replica behind on one, missing another",
			replica: map[string]check.Ticket{
				"done": {Price: 15, Version: 2}, "behind": {Price: 10, Version: 1},
				"retried": {Price: 15, Version: 3}, "unjudged": {Price: 5},
			},
			want: []string{"done", "retried"},
		},
		{
			name:    "the price there, the version not",
			replica: map[string]check.Ticket{"done": {Price: 15, Version: 1}},
		},
		{
			name:    "a version past the final one is no agreement",
			replica: map[string]check.Ticket{"done": {Price: 15, Version: 3}},
		},
		{name: "empty replica"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := check.Agreeing(tt.replica, want)
			var ids []string
			for id := range got {
				ids = append(ids, id)
			}
			assert.ElementsMatch(t, tt.want, ids)
		})
	}
}
