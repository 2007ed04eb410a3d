package main

import (
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUpFlagsForReplicasAndHA(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{args: []string{"--replicas", "2", "--ha"}},
		{args: []string{"--replicas", "0"}, wantErr: "--replicas 0: want 1 to 9"},
		{args: []string{"--replicas", "10"}, wantErr: "--replicas 10: want 1 to 9"},
		{args: []string{"--ha", "--bus", "jetstream"}},
	}
	for _, tt := range tests {
		_, _, err := parseUpFlags(tt.args, io.Discard)
		if tt.wantErr == "" {
			assert.NoError(t, err, "%v", tt.args)
		} else {
			assert.ErrorContains(t, err, tt.wantErr, "%v", tt.args)
		}
	}
}

// replicaFleet is testFleet with two copies of auth and --ha's ports.
func replicaFleet() *fleet {
	f := testFleet()
	f.replicas, f.ha = 2, true
	for name, port := range map[string]int{
		"auth-2": 16, funnelPart("auth"): 11,
		"nats-2": 22, "nats-3": 23, "nats-2-monitor": 32, "nats-3-monitor": 33,
		"sentinel": 41, "sentinel-2": 42, "sentinel-3": 43, "redis-2": 52, "redis-3": 53,
	} {
		f.ports[name] = port
	}
	return f
}

func TestCopiesShareTheirServiceFunnel(t *testing.T) {
	f := replicaFleet()
	assert.Equal(t, []string{"auth", "auth-2"}, f.copies(f.services[0]))
	assert.Equal(t, []string{"--funnel", "127.0.0.1:11"}, f.funnelArgs())

	first := envMap(f.serviceEnv(f.services[0], "auth", func(string) string { return "" })())
	second := envMap(f.serviceEnv(f.services[0], "auth-2", func(string) string { return "" })())
	assert.Equal(t, "6", first["PORT"])
	assert.Equal(t, "16", second["PORT"])
	for _, env := range []map[string]string{first, second} {
		assert.Equal(t, "mongodb://127.0.0.1:11/auth?maxPoolSize=1", env["MONGO_URI"], "every copy goes through the funnel")
		assert.Equal(t, "nats://127.0.0.1:2,nats://127.0.0.1:22,nats://127.0.0.1:23", env["NATS_URL"])
		assert.Equal(t, "127.0.0.1:41,127.0.0.1:42,127.0.0.1:43", env["REDIS_SENTINELS"])
		assert.Equal(t, "ticketing", env["REDIS_MASTER_NAME"])
	}
	assert.NotEqual(t, first["NATS_CLIENT_ID"], second["NATS_CLIENT_ID"])
	assert.NotContains(t, first, "JETSTREAM_REPLICAS", "NATS Streaming's cluster replicates by itself")
	f.bus = busJetStream
	js := envMap(f.serviceEnv(f.services[0], "auth", func(string) string { return "" })())
	assert.Equal(t, "3", js["JETSTREAM_REPLICAS"], "the stream is held by all three servers")

	exports := map[string]string{}
	for _, v := range f.exports() {
		exports[v.name] = v.value
	}
	assert.Equal(t, "http://127.0.0.1:16", exports["AUTH_2_URL"])
	assert.Equal(t, "mongodb://127.0.0.1:1/?maxPoolSize=1", exports["TEST_MONGO_URI"], "tests read the store straight")
	assert.Equal(t, "http://127.0.0.1:3,http://127.0.0.1:32,http://127.0.0.1:33", exports["TEST_NATS_MONITOR_URLS"])
	assert.Equal(t, "127.0.0.1:4,127.0.0.1:52,127.0.0.1:53", exports["TEST_REDIS_NODES"])
}

func TestOneCopyNeedsNoFunnel(t *testing.T) {
	f := testFleet()
	assert.Empty(t, replicaParts(f.services, 1))
	assert.Empty(t, f.funnelArgs())
	assert.Equal(t, "mongodb://127.0.0.1:1/auth?maxPoolSize=1", f.serviceMongoURI("auth"))
	parts := replicaParts([]service{{name: "auth", port: 3001}, {name: "tickets", port: 3002}}, 3)
	require.Len(t, parts, 6)
	assert.Equal(t, part{name: "auth-2", defPort: 3011}, parts[0])
	assert.Equal(t, part{name: "auth-3", defPort: 3021}, parts[1])
	assert.Equal(t, part{name: "mongo-funnel-auth", defPort: 27101}, parts[2])
	assert.Equal(t, part{name: "mongo-funnel-tickets", defPort: 27102}, parts[5])
}

// fakeSentinel answers every request with reply, as a Sentinel answers
// SENTINEL get-master-addr-by-name.
func fakeSentinel(t *testing.T, reply string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 512)
			_, _ = c.Read(buf)
			_, _ = c.Write([]byte(reply))
			_ = c.Close()
		}
	}()
	return ln.Addr().String()
}

func TestAskMaster(t *testing.T) {
	knows := fakeSentinel(t, "*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6380\r\n")
	unsure := fakeSentinel(t, "*-1\r\n")
	dead, err := freePorts(1)
	require.NoError(t, err)

	assert.Equal(t, "127.0.0.1:6380", askMaster([]string{hostPort(dead[0]), unsure, knows}), "the first that knows answers")
	assert.Empty(t, askMaster([]string{hostPort(dead[0]), unsure}), "none knows yet: the first start")
}
