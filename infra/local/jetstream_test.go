package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUpBusFlag(t *testing.T) {
	tests := []struct {
		args    []string
		want    string
		wantErr string
	}{
		{nil, busStan, ""},
		{[]string{"--bus", "jetstream"}, busJetStream, ""},
		{[]string{"--bus", "stan"}, busStan, ""},
		{[]string{"--bus", "kafka"}, "", `--bus "kafka": want stan or jetstream`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.args), func(t *testing.T) {
			cfg, _, err := parseUpFlags(tt.args, io.Discard)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg.bus)
		})
	}
}

// The bus decides which of this binary's servers runs as "nats" and what the
// services are told; ports, URL and everything else stay the same.
func TestFleetRunsTheChosenBus(t *testing.T) {
	tests := []struct {
		bus, wantCmd, wantEnv string
	}{
		{"", "nats", "stan"},
		{busStan, "nats", "stan"},
		{busJetStream, "jetstream", "jetstream"},
	}
	for _, tt := range tests {
		t.Run(tt.wantEnv+"/"+tt.bus, func(t *testing.T) {
			f := testFleet()
			f.bus = tt.bus
			spec := f.natsSpec("/bin/local", nil)
			assert.Equal(t, "nats", spec.name)
			assert.Equal(t, "127.0.0.1:2", spec.addr)
			assert.Equal(t, []string{tt.wantCmd, "--dir", filepath.Join("/tmp/d", tt.wantCmd), "--port", "2", "--monitor-port", "3"}, spec.args)

			env := envMap(f.serviceEnv(service{name: "auth", port: 3001}, "auth", func(string) string { return "" })())
			assert.Equal(t, tt.wantEnv, env["EVENT_BUS"])
			assert.Equal(t, "nats://127.0.0.1:2", env["NATS_URL"])
			assert.Contains(t, f.summary(), "("+tt.wantEnv+", monitoring")
		})
	}
}

// The jetstream subcommand serves JetStream with its store in --dir: a
// stream and its messages survive a restart on the same directory, as the
// services' durable consumers need.
func TestJetStreamSubcommandKeepsTheStreamAcrossRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real server; not with -short")
	}
	ports, err := freePorts(2)
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "jetstream")
	url := "nats://127.0.0.1:" + strconv.Itoa(ports[0])

	start := func() (stop func()) {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"jetstream", "--dir", dir, "--port", strconv.Itoa(ports[0]), "--monitor-port", strconv.Itoa(ports[1])}, func(string) string { return "" }, io.Discard)
		}()
		return func() {
			cancel()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(30 * time.Second):
				t.Fatal("jetstream did not stop")
			}
		}
	}
	connect := func() jetstream.JetStream {
		var nc *nats.Conn
		waitFor(t, 30*time.Second, "jetstream to accept a client", func() bool {
			nc, err = nats.Connect(url)
			return err == nil
		})
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		require.NoError(t, err)
		return js
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	stop := start()
	js := connect()
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "TEST", Subjects: []string{"ticket:created"}, Storage: jetstream.FileStorage})
	require.NoError(t, err)
	_, err = js.Publish(ctx, "ticket:created", []byte(`{"id":"1"}`))
	require.NoError(t, err)
	stop()

	stop = start()
	defer stop()
	js = connect()
	var msg *jetstream.RawStreamMsg
	waitFor(t, 30*time.Second, "the stream to be back", func() bool {
		st, err := js.Stream(ctx, "TEST")
		if err != nil {
			return false
		}
		msg, err = st.GetMsg(ctx, 1)
		return err == nil
	})
	assert.Equal(t, `{"id":"1"}`, string(msg.Data))
	assert.DirExists(t, filepath.Join(dir, "jetstream"), "the store is under --dir")
}
