package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// counts is the result of one test run, or of several added up.
type counts struct{ passed, failed, skipped int }

// String is the summary line a test runner ends with.
func (c counts) String() string {
	s := fmt.Sprintf("%d passed, %d failed", c.passed, c.failed)
	if c.skipped > 0 {
		s += fmt.Sprintf(", %d skipped", c.skipped)
	}
	return s
}

var summaryLine = regexp.MustCompile(`^(?:([\w-]+): )?(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$`)

// parseSummary reads a "[part: ]N passed, N failed[, N skipped]" line.
func parseSummary(line string) (part string, c counts, err error) {
	m := summaryLine.FindStringSubmatch(strings.TrimSpace(line))
	if m == nil {
		return "", counts{}, fmt.Errorf("not a summary line: %q", line)
	}
	c.passed, _ = strconv.Atoi(m[2])
	c.failed, _ = strconv.Atoi(m[3])
	if m[4] != "" {
		c.skipped, _ = strconv.Atoi(m[4])
	}
	return m[1], c, nil
}

// runSumTotal adds up the summary lines that the parts of `make test` (the
// Go tests, the client's tests) left in files, and prints one line for the
// whole run. A missing or unreadable file counts as one failure: the part
// that should have written it did not finish.
func runSumTotal(files []string, out io.Writer) error {
	if len(files) == 0 {
		return errors.New("sumtotal: name the summary files to add up")
	}
	var total counts
	var parts []string
	for _, f := range files {
		part, c, err := readSummary(f)
		if err != nil {
			fmt.Fprintf(out, "sumtotal: %v; counted as 1 failed\n", err)
			c = counts{failed: 1}
			part = f
		}
		if part == "" {
			part = f
		}
		parts = append(parts, fmt.Sprintf("%s %d/%d", part, c.passed, c.passed+c.failed))
		total.passed += c.passed
		total.failed += c.failed
		total.skipped += c.skipped
	}
	fmt.Fprintf(out, "passed per part: %s\n", strings.Join(parts, ", "))
	fmt.Fprintln(out, total.String())
	if total.failed > 0 {
		return exitCode(1)
	}
	return nil
}

func readSummary(path string) (string, counts, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", counts{}, fmt.Errorf("%s is missing", path)
	}
	if err != nil {
		return "", counts{}, err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	part, c, err := parseSummary(lines[len(lines)-1])
	if err != nil {
		return "", counts{}, fmt.Errorf("%s: %w", path, err)
	}
	return part, c, nil
}
