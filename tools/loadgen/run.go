package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ticketing/tools/loadgen/check"
	"github.com/ticketing/tools/loadgen/client"
	"github.com/ticketing/tools/loadgen/report"
	"github.com/ticketing/tools/loadgen/scenario"
	"github.com/ticketing/tools/loadgen/stats"
)

// Exit codes.
const (
	exitPass  = 0
	exitFail  = 1 // a check failed
	exitUsage = 2 // bad flags, or the run could not start
)

type config struct {
	scenarios                        []string
	base                             string
	urls                             client.URLs
	duration                         time.Duration
	count                            int
	concurrency                      int
	browseSeed                       int
	abandon                          int
	raceTickets, raceBuyers, raceAt  int
	edits                            int
	rush                             scenario.RushOptions
	seedTickets, seedConcurrency     int
	seedTotal                        bool
	browseLimit                      int
	timeout, requestTimeout          time.Duration
	eventTimeout, settle, grace      time.Duration
	mongo                            string
	ticketsMongo, ordersMongo, paysM string
	jsonOut, svgOut, mdOut           string
	runID                            string
	maxServerErrors                  int
	verbose                          bool
	settings                         map[string]string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scen := fs.String("scenarios", strings.Join(defaultScenarios, ","), "comma-separated scenarios to run in order: "+strings.Join(scenario.Names(), ", ")+"; \"none\" only checks the databases")
	fs.StringVar(&c.base, "base", "http://localhost:8080", "base URL of the ingress; every service is reached under it unless its own URL is given")
	fs.StringVar(&c.urls.Auth, "auth-url", "", "base URL of the auth service (default: -base)")
	fs.StringVar(&c.urls.Tickets, "tickets-url", "", "base URL of the tickets service (default: -base)")
	fs.StringVar(&c.urls.Orders, "orders-url", "", "base URL of the orders service (default: -base)")
	fs.StringVar(&c.urls.Payments, "payments-url", "", "base URL of the payments service (default: -base)")
	fs.DurationVar(&c.duration, "duration", 20*time.Second, "how long browse and purchase run (0: until -count)")
	fs.IntVar(&c.count, "count", 0, "how many flows browse and purchase run (0: until -duration)")
	fs.IntVar(&c.concurrency, "concurrency", 10, "flows of browse and purchase in flight at once")
	fs.IntVar(&c.browseSeed, "browse-seed", 20, "tickets browse makes sure exist before it starts")
	fs.IntVar(&c.abandon, "abandon", 5, "purchase leaves every n-th order unpaid so its hold lapses (0: none)")
	fs.IntVar(&c.raceTickets, "race-tickets", 200, "tickets the race scenario puts up")
	fs.IntVar(&c.raceBuyers, "race-buyers", 20, "buyers racing for each ticket")
	fs.IntVar(&c.raceAt, "race-concurrency", 5, "tickets raced at the same time")
	fs.IntVar(&c.edits, "edits", 200, "create → update(10) → update(15) sequences of the edits scenario, all in flight together")
	fs.IntVar(&c.browseLimit, "browse-limit", 100, "page size of browse's GET /api/tickets?limit=n (0: leave it to the API)")
	fs.IntVar(&c.rush.Buyers, "rush-buyers", 5000, "buyers of the rush scenario, signed up beforehand, arriving within -rush-arrival")
	fs.IntVar(&c.rush.Tickets, "rush-tickets", 500, "tickets the rush scenario's sellers list beforehand")
	fs.DurationVar(&c.rush.Arrival, "rush-arrival", time.Second, "window the rush's buyers arrive in, evenly spread")
	fs.IntVar(&c.rush.LapsePercent, "rush-lapse", 20, "percent of the rush's winners who let their hold lapse instead of paying")
	fs.IntVar(&c.rush.Tries, "rush-tries", 3, "times a rush buyer who lost a ticket goes back to the list for another")
	fs.IntVar(&c.rush.ListLimit, "rush-list-limit", 0, "page size of the rush buyers' GET /api/tickets (0: the API's default)")
	fs.DurationVar(&c.rush.Poll, "rush-poll", 100*time.Millisecond, "how often a rush buyer asks again (payments knows the order? order complete? ticket back on sale?)")
	fs.IntVar(&c.rush.SignUpWidth, "rush-signup-concurrency", 8, "sign-ups of the rush's buyers in flight at once during its set-up")
	fs.IntVar(&c.seedTickets, "seed-tickets", 0, "tickets to list through the API before the scenarios, so they run against a large store (a phase of its own)")
	fs.IntVar(&c.seedConcurrency, "seed-concurrency", 16, "listings of -seed-tickets in flight at once")
	fs.BoolVar(&c.seedTotal, "seed-total", false, "-seed-tickets is how many tickets the store holds once seeded, counting those already there (needs the tickets database: -mongo or -tickets-mongo)")
	fs.DurationVar(&c.timeout, "timeout", 15*time.Minute, "hard limit for the whole run, checks included")
	fs.DurationVar(&c.requestTimeout, "request-timeout", 30*time.Second, "limit for one request")
	fs.DurationVar(&c.eventTimeout, "event-timeout", 30*time.Second, "how long an event may take to have its effect before the flow counts as failed")
	fs.DurationVar(&c.settle, "settle", 60*time.Second, "how long the checks wait for events in flight and holds to end")
	fs.DurationVar(&c.grace, "grace", 5*time.Second, "how long past its expiresAt an order may still be created")
	fs.StringVar(&c.mongo, "mongo", "", "MongoDB URI of the server holding the services' databases (named tickets, orders, payments); enables the database checks")
	fs.StringVar(&c.ticketsMongo, "tickets-mongo", "", "MongoDB URI of the tickets database, database name in the path (overrides -mongo)")
	fs.StringVar(&c.ordersMongo, "orders-mongo", "", "MongoDB URI of the orders database (overrides -mongo)")
	fs.StringVar(&c.paysM, "payments-mongo", "", "MongoDB URI of the payments database (overrides -mongo)")
	fs.StringVar(&c.jsonOut, "json", "", "write the report as JSON to this file")
	fs.StringVar(&c.svgOut, "svg", "", "write the latency and throughput chart as SVG to this file")
	fs.StringVar(&c.mdOut, "md", "", "write the report's tables as Markdown to this file")
	fs.StringVar(&c.runID, "run-id", "", "tag for this run's e-mail addresses (default: random)")
	fs.IntVar(&c.maxServerErrors, "max-server-errors", 0, "5xx answers and failed connections tolerated before the run fails")
	fs.BoolVar(&c.verbose, "v", false, "log progress to stderr")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, s := range strings.Split(*scen, ",") {
		if s = strings.TrimSpace(s); s == "" || s == "none" {
			continue
		}
		if !slices.Contains(scenario.Names(), s) {
			return c, fmt.Errorf("-scenarios: unknown scenario %q (want %s)", s, strings.Join(scenario.Names(), ", "))
		}
		c.scenarios = append(c.scenarios, s)
	}
	var errs []error
	if len(c.scenarios) == 0 && strings.TrimSpace(*scen) != "none" {
		errs = append(errs, errors.New("-scenarios: none given (\"none\" runs only the checks)"))
	}
	if c.duration <= 0 && c.count <= 0 && (slices.Contains(c.scenarios, scenario.Browse) || slices.Contains(c.scenarios, scenario.Purchase)) {
		errs = append(errs, errors.New("-duration or -count must be positive: browse and purchase would never end"))
	}
	for name, v := range map[string]int{"-concurrency": c.concurrency, "-race-tickets": c.raceTickets, "-race-buyers": c.raceBuyers, "-race-concurrency": c.raceAt, "-edits": c.edits,
		"-rush-buyers": c.rush.Buyers, "-rush-tickets": c.rush.Tickets, "-rush-tries": c.rush.Tries, "-rush-signup-concurrency": c.rush.SignUpWidth, "-seed-concurrency": c.seedConcurrency} {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, not %d", name, v))
		}
	}
	for name, v := range map[string]int{"-seed-tickets": c.seedTickets, "-browse-limit": c.browseLimit, "-rush-list-limit": c.rush.ListLimit} {
		if v < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative, not %d", name, v))
		}
	}
	if c.seedTotal && c.mongo == "" && c.ticketsMongo == "" {
		errs = append(errs, errors.New("-seed-total counts the stored tickets: it needs -mongo or -tickets-mongo"))
	}
	if c.rush.LapsePercent < 0 || c.rush.LapsePercent > 100 {
		errs = append(errs, fmt.Errorf("-rush-lapse is a percentage, 0 to 100, not %d", c.rush.LapsePercent))
	}
	if c.rush.Arrival < 0 || c.rush.Poll <= 0 {
		errs = append(errs, fmt.Errorf("-rush-arrival must not be negative (%s) and -rush-poll must be positive (%s)", c.rush.Arrival, c.rush.Poll))
	}
	if c.timeout <= 0 {
		errs = append(errs, errors.New("-timeout must be positive: a run must end by itself"))
	}
	base := client.SameBase(c.base)
	c.urls.Auth = cmpOr(c.urls.Auth, base.Auth)
	c.urls.Tickets = cmpOr(c.urls.Tickets, base.Tickets)
	c.urls.Orders = cmpOr(c.urls.Orders, base.Orders)
	c.urls.Payments = cmpOr(c.urls.Payments, base.Payments)
	for name, u := range map[string]string{"auth": c.urls.Auth, "tickets": c.urls.Tickets, "orders": c.urls.Orders, "payments": c.urls.Payments} {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, fmt.Errorf("the %s URL %q is not an http(s) URL", name, u))
		}
	}
	if c.runID == "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		c.runID = hex.EncodeToString(b)
	}
	c.settings = map[string]string{}
	fs.VisitAll(func(f *flag.Flag) {
		if !strings.Contains(f.Name, "mongo") { // a URI may carry a password
			c.settings[f.Name] = f.Value.String()
		}
	})
	return c, errors.Join(errs...)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (c config) options(name string) scenario.Options {
	o := scenario.Options{Concurrency: c.concurrency, Duration: c.duration, Count: c.count}
	switch name {
	case scenario.Browse:
		o.BrowseSeed, o.BrowseLimit = c.browseSeed, c.browseLimit
	case scenario.Purchase:
		o.AbandonEvery = c.abandon
	case scenario.Race:
		o.Concurrency, o.RaceTickets, o.RaceBuyers = c.raceAt, c.raceTickets, c.raceBuyers
	case scenario.Edits:
		o.Concurrency, o.Count, o.Duration = c.edits, c.edits, 0
	case scenario.Rush:
		o.Rush = c.rush
	}
	return o
}

// connections is how many connections per service the busiest scenario
// keeps busy at once.
func (c config) connections() int {
	n := c.concurrency * 2
	if slices.Contains(c.scenarios, scenario.Race) {
		n = max(n, c.raceAt*c.raceBuyers)
	}
	if slices.Contains(c.scenarios, scenario.Edits) {
		n = max(n, c.edits)
	}
	if slices.Contains(c.scenarios, scenario.Rush) {
		n = max(n, c.rush.Buyers)
	}
	return max(n, c.seedConcurrency)
}

// defaultScenarios are what a run without -scenarios plays: the rush's
// thousands of sign-ups are asked for by name.
var defaultScenarios = []string{scenario.Browse, scenario.Purchase, scenario.Race, scenario.Edits}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitPass
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	logf := func(format string, args ...any) {
		if cfg.verbose {
			fmt.Fprintf(stderr, time.Now().Format("15:04:05.000")+" "+format+"\n", args...)
		}
	}

	// Every connection is a file: thousands of buyers at once need more
	// than the usual soft limit of 1,024.
	wantFiles := uint64(cfg.connections()) + spareFiles
	if got, err := raiseOpenFileLimit(wantFiles); err != nil {
		fmt.Fprintln(stderr, "loadgen: warning:", err)
	} else if got < wantFiles {
		fmt.Fprintf(stderr, "loadgen: warning: the open-file limit is %d, below the %d this run's connections need; raise the hard limit (ulimit -Hn)\n", got, wantFiles)
	}

	dbs, closeDBs, err := connectDBs(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return exitUsage
	}
	defer closeDBs()

	rec := stats.NewRecorder(nil)
	cl := client.New(cfg.urls, rec, cfg.connections(), cfg.requestTimeout)
	defer cl.Close()
	env := scenario.NewEnv(cl, rec, cfg.runID)
	env.EventTimeout = cfg.eventTimeout
	env.Logf = logf
	env.Progress = func(format string, args ...any) {
		fmt.Fprintf(stderr, time.Now().Format("15:04:05.000")+" "+format+"\n", args...)
	}

	if cfg.seedTickets > 0 {
		rec.BeginPhase("seed")
		n, err := seedCount(ctx, cfg, dbs)
		if err == nil {
			env.Progress("seed: listing %d tickets", n)
			err = env.Seed(ctx, n, cfg.seedConcurrency)
		}
		if err == nil && dbs.Tickets != nil {
			// The scenarios are to meet a large store, not the backlog of
			// events its listing left: wait until the replicas have it.
			out, cerr := check.Run(ctx, dbs, env.Ledger, check.Options{Grace: cfg.grace, Settle: cfg.settle, Logf: logf})
			env.Progress("seed: the store settled after %.1f s (every check passing: %v)", out.Waited.Seconds(), out.Settled && cerr == nil)
		}
		rec.EndPhase()
		if err != nil {
			fmt.Fprintln(stderr, "loadgen:", err)
			return exitUsage
		}
	}
	var agreement *agreementWatch
	for _, name := range cfg.scenarios {
		if ctx.Err() != nil {
			break
		}
		logf("scenario %s starts", name)
		rec.BeginPhase(scenario.FirstPhase(name))
		storedTickets(ctx, dbs, rec, logf)
		err := scenario.Run(ctx, env, name, cfg.options(name))
		if name == scenario.Edits && dbs.Orders != nil {
			// The storm's last answer is in; how long the replicas take to
			// agree is measured alongside whatever runs next.
			agreement = watchAgreement(ctx, dbs, env, rec, cfg.settle, logf)
		}
		rec.EndPhase()
		if err != nil {
			fmt.Fprintf(stderr, "loadgen: %s: %v\n", name, err)
			if ctx.Err() == nil {
				return exitUsage
			}
		}
		logf("scenario %s done", name)
	}
	agreement.wait()
	// What follows (watching holds lapse, the checks' snapshots) is not
	// the last scenario's load.
	rec.BeginPhase("settle")
	logf("waiting for the holds left to lapse")
	if n := env.WaitHolds(ctx); n > 0 {
		logf("%d holds were not seen to lapse before the run's limit", n)
	}

	rep := report.Report{Started: rec.Start(), Settings: cfg.settings, Target: map[string]string{
		"auth": cfg.urls.Auth, "tickets": cfg.urls.Tickets, "orders": cfg.urls.Orders, "payments": cfg.urls.Payments,
	}}
	logf("checking the state the run left")
	out, err := check.Run(ctx, dbs, env.Ledger, check.Options{Grace: cfg.grace, Settle: cfg.settle, Logf: logf})
	results := out.Results
	if err != nil {
		fmt.Fprintln(stderr, "loadgen: checks:", err)
		results = append(results, check.Result{Name: "checks ran", Status: check.StatusFail, Detail: err.Error()})
	}
	rep.SettleSeconds, rep.Settled = out.Waited.Seconds(), out.Settled
	rec.EndPhase()
	rep.Phases = rec.Phases()
	rep.Checks = append(results, serverErrors(rep.Phases, cfg.maxServerErrors))
	rep.FailedFlows, rep.FailureExamples = env.Ledger.Failures()
	rep.Timeline = rec.Timeline(time.Second)
	rep.Seconds = time.Since(rec.Start()).Seconds()
	rep.Decide()

	if err := rep.WriteTable(stdout); err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
	}
	if err := writeOutputs(cfg, rep); err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return exitUsage
	}
	if !rep.Passed {
		return exitFail
	}
	return exitPass
}
