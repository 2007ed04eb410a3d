package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

const usage = `usage: local <command> [flags]

Runs the ticketing fleet on one machine. Commands:

  up        start FerretDB, NATS Streaming, Redis and stripe-mock, then the
            services, then nginx (its routes generated from the Ingress
            manifest) and the web client, each as its own process; restart
            any that dies; stop everything on Ctrl-C or SIGTERM.
            --data DIR, --ephemeral, --deps-only, --no-client, --client-dir D,
            --ingress F, --env-file F, --bin DIR, --timeout D, --bus B,
            --replicas N (copies of each service behind nginx), --ha
            (three clustered NATS Streaming nodes, Redis with two replicas
            and three Sentinels) and a --<part>-port flag per part (local up -h)
  with      start a throw-away fleet (up --ephemeral, with any up flags)
            in the background, run a command with the fleet's variables
            (TEST_MONGO_URI, APP_URL, ...) in its environment, stop the fleet
            when it ends; exit with the command's status
            [--log F] [--pid-file F] [--timeout D] [up flags] -- command
  ferretdb  run an embedded FerretDB with SQLite storage
            --dir D --listen 127.0.0.1:PORT [--funnel 127.0.0.1:PORT ...]
  nats      run an embedded NATS Streaming server (cluster id "ticketing")
            --dir D --port P --monitor-port M [--memory]
            [--node ID --peers A,B,C --cluster-port P --routes URLs]
  jetstream run an embedded nats-server with JetStream (up --bus jetstream)
            --dir D --port P --monitor-port M
  help      this text; 'local <command> -h' lists a command's flags
`

// exitCode asks main to exit with this status without printing anything
// more, because the command has already said what went wrong.
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit status %d", int(c)) }

// run is the whole program; main only supplies the process's arguments,
// environment and output so tests can call it too.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return errors.New("no command given")
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case "up":
		return runUp(ctx, rest, getenv, stdout)
	case "with":
		return runWith(ctx, rest, stdout)
	case "ferretdb":
		return runFerretDB(ctx, rest, stdout)
	case "nats":
		return runNATS(ctx, rest, stdout)
	case "jetstream":
		return runJetStream(ctx, rest, stdout)
	default:
		return fmt.Errorf("unknown command %q (local --help lists them)", cmd)
	}
}

// parseFlags parses args into fs; help is true when -h was asked for, in
// which case the flag package has already printed the flags.
func parseFlags(fs *flag.FlagSet, args []string) (help bool, err error) {
	err = fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return false, fmt.Errorf("%s: unexpected arguments %q", fs.Name(), fs.Args())
	}
	return false, nil
}
