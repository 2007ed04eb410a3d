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
	"path/filepath"
	"strings"
	"syscall"
	"time"

	natsd "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats-streaming-server/server"
	"github.com/nats-io/nats-streaming-server/stores"
)

// natsClusterID is the NATS Streaming cluster id every service connects with
// (NATS_CLUSTER_ID), the same as in the cluster.
const natsClusterID = "ticketing"

// runNATS runs an embedded NATS Streaming server until SIGINT/SIGTERM.
func runNATS(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("nats", flag.ContinueOnError)
	fs.SetOutput(stdout)
	dir := fs.String("dir", "", "file store directory (created if missing); required unless --memory")
	port := fs.Int("port", 4222, "client port")
	monitorPort := fs.Int("monitor-port", 8222, "HTTP monitoring port (0 turns monitoring off)")
	memory := fs.Bool("memory", false, "keep messages in memory only, lost when the process ends")
	node := fs.String("node", "", "this node's id in a Raft cluster of NATS Streaming servers (up --ha); empty runs a lone server")
	peers := fs.String("peers", "", "with --node: the ids of every node in the cluster, comma-separated")
	clusterPort := fs.Int("cluster-port", 0, "with --node: the port the other nodes' routes reach this one on")
	routes := fs.String("routes", "", "with --node: nats:// route URLs of every node, comma-separated")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}

	opts := server.GetDefaultOptions()
	opts.ID = natsClusterID
	opts.EnableLogging = true
	// A killed client's unacked messages go to the rest of its queue group
	// only once the server drops it; the defaults (30 s x 10) leave them
	// waiting minutes. The same values as the cluster's (infra/k8s/base/nats.yaml).
	opts.ClientHBInterval = 5 * time.Second
	opts.ClientHBTimeout = 5 * time.Second
	opts.ClientHBFailCount = 2
	if *memory {
		opts.StoreType = stores.TypeMemory
	} else {
		if *dir == "" {
			return errors.New("nats: --dir is required for the file store (or pass --memory)")
		}
		abs, err := makeDataDir("nats", *dir)
		if err != nil {
			return err
		}
		opts.StoreType = stores.TypeFile
		opts.FilestoreDir = abs
	}
	natsOpts := server.DefaultNatsServerOptions
	natsOpts.Port = *port
	natsOpts.HTTPHost = "127.0.0.1"
	natsOpts.HTTPPort = *monitorPort
	if *node != "" {
		// Every node keeps the whole log; a leader is elected among them and
		// a lost one's place is taken by another, as in the prod StatefulSet.
		if *memory || *peers == "" || *clusterPort == 0 || *routes == "" {
			return errors.New("nats: --node needs --peers, --cluster-port, --routes and the file store")
		}
		opts.Clustering.Clustered = true
		opts.Clustering.NodeID = *node
		opts.Clustering.Peers = strings.Split(*peers, ",")
		opts.Clustering.RaftLogPath = filepath.Join(opts.FilestoreDir, "raft")
		// The command line's defaults, which the options struct lacks.
		opts.Clustering.LogSnapshots = server.DefaultLogSnapshots
		opts.Clustering.TrailingLogs = server.DefaultTrailingLogs
		natsOpts.Cluster.Name = natsClusterID
		natsOpts.Cluster.Host = "127.0.0.1"
		natsOpts.Cluster.Port = *clusterPort
		natsOpts.Routes = natsd.RoutesFromStr(*routes)
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	s, err := server.RunServerWithOpts(opts, &natsOpts)
	if err != nil {
		return fmt.Errorf("nats: start NATS Streaming on port %d: %w", *port, err)
	}
	defer s.Shutdown()
	slog.New(slog.NewTextHandler(stdout, nil)).Info("NATS Streaming serving",
		"url", s.ClientURL(), "monitor_port", *monitorPort, "store", opts.StoreType)

	// The server fails on its own (a broken file store, say) without telling
	// anyone; exiting then lets the supervisor restart it.
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if s.State() == server.Failed {
				return fmt.Errorf("nats: server failed: %w", s.LastError())
			}
		}
	}
}
