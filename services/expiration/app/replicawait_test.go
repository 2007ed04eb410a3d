package app

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The replica wait counts only replicas done with their first copy, from
// the master's INFO replication.
func TestCountOnline(t *testing.T) {
	for _, tc := range []struct {
		name string
		info string
		want int
	}{
		{"no replica", "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_repl_offset:0\r\n", 0},
		{"two online", "# Replication\r\nrole:master\r\nconnected_slaves:2\r\n" +
			"slave0:ip=127.0.0.1,port=6380,state=online,offset=1043,lag=0\r\n" +
			"slave1:ip=127.0.0.1,port=6381,state=online,offset=1043,lag=1\r\n", 2},
		{"one still copying", "# Replication\r\nrole:master\r\nconnected_slaves:2\r\n" +
			"slave0:ip=127.0.0.1,port=6380,state=online,offset=1043,lag=0\r\n" +
			"slave1:ip=127.0.0.1,port=6381,state=wait_bgsave,offset=0,lag=0\r\n", 1},
		{"a replica's own INFO", "# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nslave_repl_offset:1043\r\n" +
			"slave_priority:100\r\nslave_read_only:1\r\nconnected_slaves:0\r\n", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := countOnline(tc.info)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	_, err := countOnline("# Server\r\nredis_version:7.0.15\r\n")
	assert.Error(t, err, "an answer without the replication section")
}
