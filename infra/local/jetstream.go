package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// Event buses `up --bus` can start; the services get the same value as
// EVENT_BUS.
const (
	busStan      = "stan"
	busJetStream = "jetstream"
)

// runJetStream runs an embedded nats-server with JetStream until
// SIGINT/SIGTERM: the bus of `up --bus jetstream`. The services create the
// stream and their consumers themselves, as in a cluster.
func runJetStream(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("jetstream", flag.ContinueOnError)
	fs.SetOutput(stdout)
	dir := fs.String("dir", "", "JetStream store directory (created if missing); required")
	port := fs.Int("port", 4222, "client port")
	monitorPort := fs.Int("monitor-port", 8222, "HTTP monitoring port (0 turns monitoring off)")
	node := fs.String("node", "", "this server's name in a JetStream cluster (up --ha); empty runs a lone server")
	clusterPort := fs.Int("cluster-port", 0, "with --node: the port the other servers' routes reach this one on")
	routes := fs.String("routes", "", "with --node: nats:// route URLs of every server, comma-separated")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("jetstream: --dir is required")
	}
	abs, err := makeDataDir("jetstream", *dir)
	if err != nil {
		return err
	}

	opts := &natsserver.Options{
		ServerName: "ticketing-local",
		Host:       "127.0.0.1",
		Port:       *port,
		JetStream:  true,
		StoreDir:   abs,
		// The launcher handles signals (below); the server's own handler
		// would exit the process without our shutdown.
		NoSigs: true,
	}
	if *monitorPort > 0 {
		opts.HTTPHost, opts.HTTPPort = "127.0.0.1", *monitorPort
	}
	if *node != "" {
		// Three servers elect a meta leader and a leader per stream; the
		// services ask for the stream with JETSTREAM_REPLICAS copies, so
		// losing one server loses no message, as in the prod component.
		if *clusterPort == 0 || *routes == "" {
			return errors.New("jetstream: --node needs --cluster-port and --routes")
		}
		opts.ServerName = *node
		opts.Cluster = natsserver.ClusterOpts{Name: natsClusterID, Host: "127.0.0.1", Port: *clusterPort}
		opts.Routes = natsserver.RoutesFromStr(*routes)
	}
	ns, err := natsserver.NewServer(opts)
	if err != nil {
		return fmt.Errorf("jetstream: configure nats-server: %w", err)
	}
	ns.ConfigureLogger()

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	ns.Start()
	defer func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	}()
	if !ns.ReadyForConnections(30 * time.Second) {
		return fmt.Errorf("jetstream: nats-server not accepting connections on port %d within 30s", *port)
	}
	if !ns.JetStreamEnabled() {
		return errors.New("jetstream: nats-server started without JetStream")
	}
	slog.New(slog.NewTextHandler(stdout, nil)).Info("NATS JetStream serving",
		"url", ns.ClientURL(), "monitor_port", *monitorPort, "store", abs)

	// A server that shuts itself down (a broken store, say) tells no one;
	// exiting then lets the supervisor restart it.
	down := make(chan struct{})
	go func() {
		ns.WaitForShutdown()
		close(down)
	}()
	select {
	case <-ctx.Done():
		return nil
	case <-down:
		return errors.New("jetstream: nats-server shut down by itself")
	}
}
