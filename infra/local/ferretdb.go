package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// runFerretDB serves the MongoDB wire protocol from SQLite files until
// SIGINT/SIGTERM. It runs in a process of its own (started by up) so it can
// be killed and restarted like a database pod.
func runFerretDB(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("ferretdb", flag.ContinueOnError)
	fs.SetOutput(stdout)
	dir := fs.String("dir", "", "directory for the SQLite files, one per database (created if missing)")
	listen := fs.String("listen", "127.0.0.1:27017", "TCP address to serve the MongoDB protocol on")
	var funnels listFlag
	fs.Var(&funnels, "funnel", "also serve the store on this address through one shared connection (repeatable; up --replicas gives one per service)")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("ferretdb: --dir is required")
	}
	abs, err := makeDataDir("ferretdb", *dir)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	// FerretDB logs every connection at info level; only its errors are
	// worth a line in the launcher's output.
	quiet := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: slog.LevelError}))
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: sqliteURL(abs),
		Logger:    quiet,
	})
	if err != nil {
		return fmt.Errorf("ferretdb: start on %s with data in %s: %w", *listen, abs, err)
	}

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	slog.New(slog.NewTextHandler(stdout, nil)).Info("FerretDB serving", "addr", *listen, "dir", abs)
	for _, addr := range funnels {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			stop()
			<-done
			return fmt.Errorf("ferretdb: funnel on %s: %w", addr, err)
		}
		fn := newFunnel(*listen, quiet)
		go func() {
			if err := fn.serve(ctx, ln); err != nil {
				quiet.Error("funnel stopped", "addr", addr, "err", err)
			}
		}()
	}

	// Run returns once ctx is cancelled and every connection is closed.
	if err := <-done; err != nil {
		return fmt.Errorf("ferretdb: %w", err)
	}
	return nil
}

// sqliteURL is where FerretDB keeps its SQLite files, one per database.
// FerretDB runs SQLite in WAL mode; synchronous(NORMAL) writes each commit to
// the WAL without waiting for the disk, and syncs at each checkpoint. A
// commit then survives the store process being killed (the WAL is in the
// kernel's page cache), which is what the fault suite does to it; only a
// machine crash could lose the last commits, and this store exists only on
// a developer's or CI's machine. With FULL (SQLite's default), each of the
// store's one-connection clients waits for a disk sync per write, and under
// an edit storm the services spend most of their time in that queue.
func sqliteURL(dir string) string {
	return "file:" + dir + "/?_pragma=synchronous(NORMAL)"
}

// makeDataDir makes dir (for the subcommand name) if it is missing and
// returns its absolute path.
func makeDataDir(name, dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("%s: resolve --dir: %w", name, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", fmt.Errorf("%s: create data dir: %w", name, err)
	}
	return abs, nil
}

// listFlag collects a repeatable flag's values.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }
