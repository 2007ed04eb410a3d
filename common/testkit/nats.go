// Package testkit holds helpers for tests across the services: an in-process
// NATS Streaming or JetStream server, a fresh Mongo database and a
// signed-in cookie.
package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats-streaming-server/server"
	"github.com/nats-io/nats-streaming-server/stores"

	"github.com/ticketing/common/events"
)

// NATSClusterID is the cluster id of the test servers, the same as in a cluster.
const NATSClusterID = "ticketing"

// Buses are the event buses a suite runs on, for table-driven tests.
func Buses() []events.Bus { return []events.Bus{events.BusStan, events.BusJetStream} }

// NATSServer is an in-process NATS Streaming or JetStream server owned by
// one test. It can be stopped and started again on the same port to test
// reconnects.
type NATSServer struct {
	tb  testing.TB
	bus events.Bus
	// storeDir keeps the state across Restart; empty to forget it (NATS
	// Streaming's memory store, a fresh JetStream directory per start).
	storeDir string

	mu   sync.Mutex
	stan *server.StanServer // nil while stopped or on JetStream
	js   *natsserver.Server // nil while stopped or on NATS Streaming
	port int
	url  string
}

// NATSOption changes how NATS starts the server.
type NATSOption func(*NATSServer)

// WithFileStore keeps the server's state in a temporary directory, so it
// survives Restart as it does in a cluster. Without it a Restart forgets
// everything (channels or streams, durables, clients).
func WithFileStore() NATSOption {
	return func(s *NATSServer) { s.storeDir = s.tb.TempDir() }
}

// WithBus picks the server: NATS Streaming (the default) or JetStream.
func WithBus(bus events.Bus) NATSOption {
	return func(s *NATSServer) { s.bus = bus }
}

// NATS starts a NATS Streaming server (cluster id "ticketing", memory store
// unless WithFileStore), or a JetStream server WithBus(events.BusJetStream),
// on a random port and shuts it down when the test ends.
func NATS(tb testing.TB, opts ...NATSOption) *NATSServer {
	tb.Helper()
	s := &NATSServer{tb: tb, bus: events.BusStan, port: -1}
	for _, opt := range opts {
		opt(s)
	}
	if err := s.start(); err != nil {
		tb.Fatalf("testkit: start %s server: %v", s.bus, err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// Bus is the bus the server speaks; Connect sets it in the events.Config.
func (s *NATSServer) Bus() events.Bus { return s.bus }

func (s *NATSServer) start() error {
	if s.bus == events.BusJetStream {
		return s.startJetStream()
	}
	return s.startStan()
}

// startJetStream runs nats-server with JetStream in this process. Its
// store is a directory of its own per start unless WithFileStore, so a
// Restart then loses the stream as NATS Streaming's memory store does.
func (s *NATSServer) startJetStream() error {
	dir := s.storeDir
	if dir == "" {
		dir = s.tb.TempDir()
	}
	ns, err := natsserver.NewServer(&natsserver.Options{
		Host:      "127.0.0.1",
		Port:      s.port,
		JetStream: true,
		StoreDir:  dir,
		NoLog:     true,
		NoSigs:    true,
	})
	if err != nil {
		return err
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return errors.New("JetStream server not ready within 10s")
	}
	port, err := portOf(ns.ClientURL())
	if err != nil {
		ns.Shutdown()
		return err
	}
	s.js, s.port, s.url = ns, port, ns.ClientURL()
	return nil
}

func portOf(clientURL string) (int, error) {
	u, err := url.Parse(clientURL)
	if err != nil {
		return 0, err
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return 0, fmt.Errorf("port of %s: %w", clientURL, err)
	}
	return port, nil
}

func (s *NATSServer) startStan() error {
	opts := server.GetDefaultOptions()
	opts.ID = NATSClusterID
	if s.storeDir != "" {
		opts.StoreType = stores.TypeFile
		opts.FilestoreDir = s.storeDir
	} else {
		opts.StoreType = stores.TypeMemory
	}
	natsOpts := server.DefaultNatsServerOptions
	natsOpts.Port = s.port
	srv, err := server.RunServerWithOpts(opts, &natsOpts)
	if err != nil {
		return err
	}
	port, err := portOf(srv.ClientURL())
	if err != nil {
		srv.Shutdown()
		return err
	}
	s.stan, s.port, s.url = srv, port, srv.ClientURL()
	return nil
}

// URL is the address clients connect to; it stays the same across Restart.
func (s *NATSServer) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Stop shuts the server down, as a crashed or restarting server would be.
// Stopping a stopped server does nothing.
func (s *NATSServer) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stan != nil {
		s.stan.Shutdown()
		s.stan = nil
	}
	if s.js != nil {
		s.js.Shutdown()
		s.js.WaitForShutdown()
		s.js = nil
	}
}

// Restart stops the server if it runs and starts it again on the same port.
func (s *NATSServer) Restart() {
	s.tb.Helper()
	s.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	// The port was just released; something else may briefly hold it.
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err = s.start(); err == nil {
			return
		}
	}
	s.tb.Fatalf("testkit: restart %s server on port %d: %v", s.bus, s.port, err)
}

// Connect returns an events.Conn to this server with a client id unique to
// this call, set up to notice a lost server and reconnect within a few
// seconds. configure may change the config before connecting. The
// connection is closed when the test ends.
func (s *NATSServer) Connect(tb testing.TB, configure ...func(*events.Config)) *events.Conn {
	tb.Helper()
	cfg := events.Config{
		Bus:          s.bus,
		URL:          s.URL(),
		ClusterID:    NATSClusterID,
		ClientID:     UniqueClientID(tb),
		PingInterval: time.Second,
		PingMaxOut:   2,
		MinBackoff:   50 * time.Millisecond,
		MaxBackoff:   500 * time.Millisecond,
	}
	for _, f := range configure {
		f(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := events.Connect(ctx, cfg)
	if err != nil {
		tb.Fatalf("testkit: %v", err)
	}
	tb.Cleanup(func() {
		if err := conn.Close(); err != nil {
			tb.Logf("testkit: closing NATS connection: %v", err)
		}
	})
	return conn
}

// UniqueClientID returns a NATS Streaming client id made of the test's name
// and a random suffix: the server refuses two live connections with one id.
func UniqueClientID(tb testing.TB) string {
	var b strings.Builder
	for _, r := range tb.Name() {
		if b.Len() >= 40 {
			break
		}
		// Client ids may hold only letters, digits, '-' and '_'.
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix) // never fails (crypto/rand panics instead)
	return b.String() + "-" + hex.EncodeToString(suffix)
}
