// Package config reads a service's settings from its environment and reports
// every missing or malformed variable at once, so a bad deploy fails at start
// with one message that names them all.
package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Env reads variables through getenv and collects problems.
type Env struct {
	getenv   func(string) string
	problems []string
}

// New reads from getenv (os.Getenv in main, a map in tests).
func New(getenv func(string) string) *Env { return &Env{getenv: getenv} }

// Required returns a variable that must be set and non-empty.
func (e *Env) Required(name string) string {
	v := strings.TrimSpace(e.getenv(name))
	if v == "" {
		e.problems = append(e.problems, name+" is not set")
	}
	return v
}

// String returns a variable, or def when it is unset.
func (e *Env) String(name, def string) string {
	if v := strings.TrimSpace(e.getenv(name)); v != "" {
		return v
	}
	return def
}

// Int returns an integer variable within [min, max], or def when unset.
func (e *Env) Int(name string, def, min, max int) int {
	v := strings.TrimSpace(e.getenv(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		e.problems = append(e.problems, fmt.Sprintf("%s=%q is not a whole number from %d to %d", name, v, min, max))
		return def
	}
	return n
}

// Duration returns a positive Go duration ("24h", "90s"), or def when unset.
// A bare number is taken as seconds, the unit most people mean.
func (e *Env) Duration(name string, def time.Duration) time.Duration {
	v := strings.TrimSpace(e.getenv(name))
	if v == "" {
		return def
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		e.problems = append(e.problems, fmt.Sprintf("%s=%q is not a positive duration such as 90s or 24h", name, v))
		return def
	}
	return d
}

// OneOf returns a variable that must be one of allowed, or def when unset.
func (e *Env) OneOf(name, def string, allowed ...string) string {
	v := strings.TrimSpace(e.getenv(name))
	if v == "" {
		return def
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	e.problems = append(e.problems, fmt.Sprintf("%s=%q is not one of %s", name, v, strings.Join(allowed, ", ")))
	return def
}

// Bool returns a boolean variable ("true", "1", "false", "0"), or def when unset.
func (e *Env) Bool(name string, def bool) bool {
	v := strings.TrimSpace(e.getenv(name))
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.problems = append(e.problems, fmt.Sprintf("%s=%q is not true or false", name, v))
		return def
	}
	return b
}

// Problem records a problem of the caller's own, for a setting that needs
// more checking than these readers do; Err reports it with the rest. Name
// the variable, and never echo a value that may hold a secret.
func (e *Env) Problem(format string, args ...any) {
	e.problems = append(e.problems, fmt.Sprintf(format, args...))
}

// Err names every problem found so far, or is nil.
func (e *Env) Err() error {
	if len(e.problems) == 0 {
		return nil
	}
	return errors.New("configuration: " + strings.Join(e.problems, "; "))
}
