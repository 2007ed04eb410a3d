// Package testkit holds helpers for tests across the services: an in-process
// NATS Streaming server, a fresh Mongo database and a signed-in cookie.
package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-streaming-server/server"
	"github.com/nats-io/nats-streaming-server/stores"

	"github.com/ticketing/common/events"
)

// NATSClusterID is the cluster id of the test servers, the same as in a cluster.
const NATSClusterID = "ticketing"

// NATSServer is an in-process NATS Streaming server owned by one test. It
// can be stopped and started again on the same port to test reconnects.
type NATSServer struct {
	tb       testing.TB
	storeDir string // empty for the memory store

	mu   sync.Mutex
	srv  *server.StanServer // nil while stopped
	port int
	url  string
}

// NATSOption changes how NATS starts the server.
type NATSOption func(*NATSServer)

// WithFileStore keeps the server's state in a temporary directory, so it
// survives Restart as it does in a cluster. The default memory store forgets
// everything (channels, durables, clients) on Restart.
func WithFileStore() NATSOption {
	return func(s *NATSServer) { s.storeDir = s.tb.TempDir() }
}

// NATS starts a NATS Streaming server (cluster id "ticketing", memory store
// unless WithFileStore) on a random port and shuts it down when the test ends.
func NATS(tb testing.TB, opts ...NATSOption) *NATSServer {
	tb.Helper()
	s := &NATSServer{tb: tb, port: -1}
	for _, opt := range opts {
		opt(s)
	}
	if err := s.start(); err != nil {
		tb.Fatalf("testkit: start NATS Streaming: %v", err)
	}
	tb.Cleanup(s.Stop)
	return s
}

func (s *NATSServer) start() error {
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
	u, err := url.Parse(srv.ClientURL())
	if err != nil {
		srv.Shutdown()
		return err
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		srv.Shutdown()
		return err
	}
	s.srv, s.port, s.url = srv, port, srv.ClientURL()
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
	if s.srv != nil {
		s.srv.Shutdown()
		s.srv = nil
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
	s.tb.Fatalf("testkit: restart NATS Streaming on port %d: %v", s.port, err)
}

// Connect returns an events.Conn to this server with a client id unique to
// this call, set up to notice a lost server and reconnect within a few
// seconds. configure may change the config before connecting. The
// connection is closed when the test ends.
func (s *NATSServer) Connect(tb testing.TB, configure ...func(*events.Config)) *events.Conn {
	tb.Helper()
	cfg := events.Config{
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
