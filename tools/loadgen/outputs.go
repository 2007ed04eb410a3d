package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/ticketing/tools/loadgen/chart"
	"github.com/ticketing/tools/loadgen/check"
	"github.com/ticketing/tools/loadgen/report"
	"github.com/ticketing/tools/loadgen/stats"
)

// seedCount is how many tickets to list: -seed-tickets, less those stored
// already with -seed-total.
func seedCount(ctx context.Context, cfg config, dbs check.DBs) (int, error) {
	if !cfg.seedTotal {
		return cfg.seedTickets, nil
	}
	stored, err := dbs.Tickets.Collection("tickets").CountDocuments(ctx, bson.M{})
	if err != nil {
		return 0, fmt.Errorf("seed: count the stored tickets: %w", err)
	}
	return max(cfg.seedTickets-int(stored), 0), nil
}

// serverErrors fails the run when the services answered with 5xx or not at
// all more often than allowed.
func serverErrors(phases []stats.PhaseStats, allowed int) check.Result {
	r := check.Result{Name: "server errors (5xx or no answer)", Status: check.StatusPass}
	transport, fivexx := 0, 0
	for _, p := range phases {
		r.Judged += p.Requests
		r.Failures += p.ServerErrs
		for _, e := range p.Endpoints {
			for status, n := range e.Statuses {
				code, _ := strconv.Atoi(status) // "transport" reads as 0
				if code == stats.StatusTransport || code >= 500 {
					r.Examples = append(r.Examples, fmt.Sprintf("%s: %s×%d in %s", e.Endpoint, status, n, p.Name))
				}
				switch {
				case code == stats.StatusTransport:
					transport += n
				case code >= 500:
					fivexx += n
				}
			}
		}
	}
	slices.Sort(r.Examples)
	if r.Failures > allowed {
		r.Status = check.StatusFail
	}
	r.Detail = fmt.Sprintf("%d transport errors (no answer), %d 5xx", transport, fivexx)
	if allowed > 0 {
		r.Detail += fmt.Sprintf("; %d allowed", allowed)
	}
	return r
}

func writeOutputs(cfg config, rep report.Report) error {
	write := func(path string, f func(io.Writer) error) error {
		if path == "" {
			return nil
		}
		file, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := f(file); err != nil {
			_ = file.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
		return file.Close()
	}
	title := fmt.Sprintf("ticketing load: %s (%s)", strings.Join(cfg.scenarios, ", "), rep.Started.UTC().Format("2006-01-02 15:04 UTC"))
	return errors.Join(
		write(cfg.jsonOut, rep.WriteJSON),
		write(cfg.mdOut, rep.WriteMarkdown),
		write(cfg.svgOut, func(w io.Writer) error { return chart.Render(w, rep.Figure(title)) }),
	)
}

// connectDBs opens the databases the checks read; none given, none opened.
func connectDBs(ctx context.Context, cfg config) (check.DBs, func(), error) {
	var dbs check.DBs
	var clients []*mongo.Client
	closeAll := func() {
		for _, c := range clients {
			dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = c.Disconnect(dctx)
			cancel()
		}
	}
	open := func(uri, defaultDB string) (*mongo.Database, error) {
		u, err := url.Parse(uri)
		if err != nil {
			return nil, fmt.Errorf("mongo URI for %s: %w", defaultDB, err)
		}
		name := strings.Trim(u.Path, "/")
		if name == "" {
			name = defaultDB
		}
		c, err := mongo.Connect(ctx, options.Client().ApplyURI(uri).SetServerSelectionTimeout(10*time.Second))
		if err != nil {
			return nil, fmt.Errorf("connect to the %s database: %w", defaultDB, err)
		}
		clients = append(clients, c)
		if err := c.Ping(ctx, nil); err != nil {
			return nil, fmt.Errorf("ping the %s database: %w", defaultDB, err)
		}
		return c.Database(name), nil
	}
	var err error
	for _, d := range []struct {
		uri, name string
		db        **mongo.Database
	}{
		{cmpOr(cfg.ticketsMongo, cfg.mongo), "tickets", &dbs.Tickets},
		{cmpOr(cfg.ordersMongo, cfg.mongo), "orders", &dbs.Orders},
		{cmpOr(cfg.paysM, cfg.mongo), "payments", &dbs.Payments},
	} {
		if d.uri == "" {
			continue
		}
		if cfg.mongo != "" && d.uri == cfg.mongo {
			// One server for all: the database is the service's name.
			u, perr := url.Parse(d.uri)
			if perr == nil {
				u.Path = "/" + d.name
				d.uri = u.String()
			}
		}
		if *d.db, err = open(d.uri, d.name); err != nil {
			closeAll()
			return check.DBs{}, func() {}, err
		}
	}
	return dbs, closeAll, nil
}
