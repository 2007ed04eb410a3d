package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// testEvent is one line of `go test -json`: a test event (go doc
// cmd/test2json) or, since Go 1.24, a build event (go help buildjson); the
// two share the stream and are told apart by Action.
type testEvent struct {
	Action      string
	Package     string
	Test        string
	Output      string
	Elapsed     float64
	FailedBuild string
	ImportPath  string // build events only
}

// testRun collects the output of one top-level test and its subtests until
// the top-level test ends, so a failure prints in the order it happened.
type testRun struct {
	lines  []taggedLine
	failed map[string]bool // tests (the top one or subtests) that failed
}

type taggedLine struct{ test, text string }

// testSummary turns the event stream into what a person needs: the output of
// failed tests and packages, build errors, one ok/FAIL line per package, and
// the counts.
//
// Counts are of test events, subtests included: a failing subtest counts
// once and its failing parent once more. A package that fails with no
// failing test of its own (a build error, a panic in TestMain or init, a race
// found after the tests) counts as one failed too, so the summary never says
// "0 failed" when something did.
type testSummary struct {
	out                     io.Writer
	passed, failed, skipped int
	packagesSeen            int
	runs                    map[string]*testRun // by package + "\x00" + top-level test
	pkgOutput               map[string][]string
	pkgFailedTests          map[string]bool
	buildOutput             map[string][]string // by import path
	buildPrinted            map[string]bool
	anyFailure              bool
	summaryFile             string
}

func newTestSummary(out io.Writer) *testSummary {
	return &testSummary{
		out:            out,
		runs:           make(map[string]*testRun),
		pkgOutput:      make(map[string][]string),
		pkgFailedTests: make(map[string]bool),
		buildOutput:    make(map[string][]string),
		buildPrinted:   make(map[string]bool),
	}
}

// runTestsumCmd is the testsum command: its flags, then runTestsum.
func runTestsumCmd(args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("testsum", flag.ContinueOnError)
	fs.SetOutput(out)
	summaryFile := fs.String("summary-file", "", `also write the summary as "go: N passed, N failed" to this file (for sumtotal)`)
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	return runTestsum(in, out, *summaryFile)
}

// runTestsum reads `go test -json` from in and writes the digest to out. It
// returns exitCode(1) after the summary line if anything failed. With
// summaryFile set, the summary line also goes there, labelled "go:".
func runTestsum(in io.Reader, out io.Writer, summaryFile string) error {
	s := newTestSummary(out)
	s.summaryFile = summaryFile
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		s.line(sc.Text())
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(out, "testsum: reading go test output: %v\n", err)
		s.anyFailure = true
	}
	return s.finish()
}

func (s *testSummary) line(text string) {
	var e testEvent
	if !strings.HasPrefix(text, "{") || json.Unmarshal([]byte(text), &e) != nil || e.Action == "" {
		// Not an event: the go command's own messages (it may write them to
		// stderr even with -json). Pass them on as they are.
		fmt.Fprintln(s.out, text)
		return
	}
	switch e.Action {
	case "build-output":
		s.buildOutput[e.ImportPath] = append(s.buildOutput[e.ImportPath], e.Output)
	case "build-fail":
		s.anyFailure = true
		s.printBuild(e.ImportPath)
	case "output":
		if e.Test == "" {
			s.pkgOutput[e.Package] = append(s.pkgOutput[e.Package], e.Output)
			return
		}
		r := s.run(e.Package, e.Test)
		r.lines = append(r.lines, taggedLine{e.Test, e.Output})
	case "pass", "skip", "fail":
		if e.Test == "" {
			s.packageEnd(e)
			return
		}
		s.testEnd(e)
	}
}

func runKey(pkg, test string) string {
	top, _, _ := strings.Cut(test, "/")
	return pkg + "\x00" + top
}

func (s *testSummary) run(pkg, test string) *testRun {
	k := runKey(pkg, test)
	r := s.runs[k]
	if r == nil {
		r = &testRun{failed: make(map[string]bool)}
		s.runs[k] = r
	}
	return r
}

func (s *testSummary) testEnd(e testEvent) {
	switch e.Action {
	case "pass":
		s.passed++
	case "skip":
		s.skipped++
	case "fail":
		s.failed++
		s.pkgFailedTests[e.Package] = true
		s.run(e.Package, e.Test).failed[e.Test] = true
	}
	if strings.Contains(e.Test, "/") {
		return // the top-level test decides what gets printed
	}
	k := runKey(e.Package, e.Test)
	if r := s.runs[k]; r != nil {
		switch e.Action {
		case "fail":
			s.printRun(r, false)
		case "skip":
			// Why a test skipped matters (no Redis here, say); the
			// "=== RUN" noise does not.
			for _, l := range r.lines {
				if !strings.HasPrefix(l.text, "=== ") {
					fmt.Fprint(s.out, l.text)
				}
			}
		}
	}
	delete(s.runs, k)
}

// printRun prints the lines of the failed tests in r; all of them if
// unfinished, since a test that never ended (a panic, a timeout) is the story.
func (s *testSummary) printRun(r *testRun, all bool) {
	for _, l := range r.lines {
		if all || r.failed[l.test] {
			fmt.Fprint(s.out, l.text)
		}
	}
}

func (s *testSummary) packageEnd(e testEvent) {
	s.packagesSeen++
	output := s.pkgOutput[e.Package]
	delete(s.pkgOutput, e.Package)
	switch e.Action {
	case "pass":
		fmt.Fprintln(s.out, okLine(e, output))
	case "skip":
		// "no test files": nothing a person needs to read.
	case "fail":
		s.anyFailure = true
		if e.FailedBuild != "" {
			s.printBuild(e.FailedBuild)
		}
		prefix := e.Package + "\x00"
		for k, r := range s.runs {
			if strings.HasPrefix(k, prefix) {
				s.printRun(r, true)
				delete(s.runs, k)
			}
		}
		if !s.pkgFailedTests[e.Package] {
			s.failed++
		}
		if len(output) == 0 {
			output = []string{fmt.Sprintf("FAIL\t%s\n", e.Package)}
		}
		for _, o := range output {
			fmt.Fprint(s.out, o)
		}
	}
}

// okLine is go test's own "ok  pkg 0.1s" line if it printed one.
func okLine(e testEvent, output []string) string {
	for _, o := range output {
		if strings.HasPrefix(o, "ok ") {
			return strings.TrimRight(o, "\n")
		}
	}
	return fmt.Sprintf("ok  \t%s\t%.3fs", e.Package, e.Elapsed)
}

func (s *testSummary) printBuild(importPath string) {
	if s.buildPrinted[importPath] {
		return
	}
	s.buildPrinted[importPath] = true
	for _, o := range s.buildOutput[importPath] {
		fmt.Fprint(s.out, o)
	}
}

// finish prints the summary line, last, and says whether the run failed.
func (s *testSummary) finish() error {
	if s.packagesSeen == 0 && !s.anyFailure {
		// go test failed before running anything (its message is above).
		fmt.Fprintln(s.out, "testsum: no package results in the input")
		s.anyFailure = true
	}
	summary := counts{s.passed, s.failed, s.skipped}.String()
	fmt.Fprintln(s.out, summary)
	if s.summaryFile != "" {
		failed := s.failed
		if s.anyFailure && failed == 0 {
			failed = 1 // never pass a failed run on as "0 failed"
		}
		line := "go: " + counts{s.passed, failed, s.skipped}.String() + "\n"
		// Read only after this process has ended: a plain write will do.
		if err := os.WriteFile(s.summaryFile, []byte(line), 0o644); err != nil {
			fmt.Fprintf(s.out, "testsum: %v\n", err)
			return exitCode(1)
		}
	}
	if s.anyFailure || s.failed > 0 {
		return exitCode(1)
	}
	return nil
}
