// Command testsum digests test output for `make test`:
//
//	testsum [--summary-file F]   read 'go test -json' on stdin, echo failures,
//	                             end with "N passed, N failed"; exit 1 if
//	                             anything failed; F gets "go: N passed, N failed"
//	testsum total FILE...        add up "<part>: N passed, N failed[, N skipped]"
//	                             lines from the files (testsum's, the client
//	                             tests'); print one total line; exit 1 if
//	                             anything failed or a file is missing
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	err := run(os.Args[1:], os.Stdin, os.Stdout)
	if err == nil {
		return
	}
	var code exitCode
	if errors.As(err, &code) {
		os.Exit(int(code))
	}
	fmt.Fprintln(os.Stderr, "testsum:", err)
	os.Exit(1)
}

// run is the whole program; main only supplies its arguments, input and
// output so tests can call it too.
func run(args []string, in io.Reader, out io.Writer) error {
	if len(args) > 0 && args[0] == "total" {
		return runSumTotal(args[1:], out)
	}
	return runTestsumCmd(args, in, out)
}

// exitCode asks main to exit with this status without printing anything
// more, because the command has already said what went wrong.
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit status %d", int(c)) }

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
