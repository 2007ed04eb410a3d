// Command local runs the ticketing fleet on one machine: the dependencies
// (FerretDB, NATS Streaming, Redis, stripe-mock) and the services, each as its
// own OS process, as `make up` and `make test` need them. It also embeds the
// FerretDB and NATS Streaming servers it starts, and summarises `go test -json`.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
)

func main() {
	err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout)
	if err == nil {
		return
	}
	var code exitCode
	if errors.As(err, &code) {
		os.Exit(int(code))
	}
	fmt.Fprintln(os.Stderr, "local:", err)
	os.Exit(1)
}
