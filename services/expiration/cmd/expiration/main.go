// Command expiration ends order holds: it schedules a timer per order in
// Redis and publishes expiration:complete when the timer fires.
package main

import (
	"context"
	"fmt"
	"os"
)

func main() {
	if err := run(context.Background(), os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "expiration:", err)
		os.Exit(1)
	}
}
