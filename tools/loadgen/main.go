// Command loadgen puts the ticketing fleet under load with named scenarios
// (browse, purchase, race, edits), reports per-endpoint throughput and
// latency percentiles and the lags of the events behind them, and ends with
// checks of the state the services were left in: it exits 1 when one fails.
//
//	loadgen -base http://localhost:8080 -scenarios purchase -duration 30s -concurrency 20 \
//	    -mongo 'mongodb://127.0.0.1:27017/' -json out.json -svg out.svg
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
