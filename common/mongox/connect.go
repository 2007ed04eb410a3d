package mongox

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/readpref"
)

// Connect creates a client for uri and pings the primary, all within timeout,
// so a service that cannot reach its database fails at start-up instead of on
// its first request. Errors name the hosts but never the password.
func Connect(ctx context.Context, uri string, timeout time.Duration) (*mongo.Client, error) {
	if timeout <= 0 {
		return nil, errors.New("mongox: connect timeout must be positive")
	}
	target := redactURI(uri)

	opts := options.Client().ApplyURI(uri)
	// ApplyURI only records a parse error; Validate surfaces it. Parse errors
	// may quote parts of the URI, so scrub them before they reach a log.
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("mongox: invalid mongo URI %s: %s", target, scrub(err.Error(), uri))
	}

	// The driver's default of 30 s would hold every request that long while
	// the database is down; a request should fail fast with a 500 instead.
	if opts.ServerSelectionTimeout == nil {
		opts.SetServerSelectionTimeout(DefaultServerSelectionTimeout)
	}

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	client, err := mongo.Connect(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("mongox: connect to %s: %w", target, err)
	}
	if err := pingUntil(ctx, client); err != nil {
		// A fresh context: ctx may be the one that just expired.
		dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer dcancel()
		_ = client.Disconnect(dctx)
		return nil, fmt.Errorf("mongox: ping %s within %s: %w", target, timeout, err)
	}
	return client, nil
}

// DefaultServerSelectionTimeout bounds how long an operation waits for a
// reachable server when the URI does not say (serverSelectionTimeoutMS).
const DefaultServerSelectionTimeout = 5 * time.Second

// pingUntil pings until the primary answers or ctx ends: at start-up the
// database may come up a little after the service, and one ping only waits
// for the server selection timeout.
func pingUntil(ctx context.Context, client *mongo.Client) error {
	for {
		err := client.Ping(ctx, readpref.Primary())
		if err == nil || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Ping returns a readiness check for /readyz: it fails while the primary does
// not answer. The caller bounds it through ctx.
func Ping(client *mongo.Client) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if err := client.Ping(ctx, readpref.Primary()); err != nil {
			return fmt.Errorf("mongox: ping: %w", err)
		}
		return nil
	}
}

// redactURI gives the URI as it may be logged: scheme, user and hosts, with
// the password and the query (which can carry TLS key passwords) left out.
// It splits at the last '@' so that even a malformed URI with an unescaped
// '/' or '?' in its password never shows a piece of it.
func redactURI(uri string) string {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return "<malformed mongo URI>"
	}
	user := ""
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		name, _, hasPass := strings.Cut(rest[:at], ":")
		user = name
		if hasPass {
			user += ":xxxxx"
		}
		user += "@"
		rest = rest[at+1:]
	}
	hosts, _, _ := strings.Cut(rest, "/")
	hosts, _, _ = strings.Cut(hosts, "?")
	return scheme + "://" + user + hosts + "/"
}

// scrub removes every string that may be the URI's password, escaped and
// unescaped, from msg. Both the first and the last '@' are tried as the end
// of the user info, since a malformed URI may have either.
func scrub(msg, uri string) string {
	_, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return msg
	}
	_, afterColon, hasColon := strings.Cut(rest, ":")
	if !hasColon {
		return msg
	}
	var candidates []string
	for _, end := range []int{strings.Index(afterColon, "@"), strings.LastIndex(afterColon, "@")} {
		if end <= 0 {
			continue
		}
		pass := afterColon[:end]
		candidates = append(candidates, pass)
		if p, err := url.PathUnescape(pass); err == nil {
			candidates = append(candidates, p)
		}
	}
	// Longest first, so a shorter candidate never leaves part of a longer one.
	sort.Slice(candidates, func(i, j int) bool { return len(candidates[i]) > len(candidates[j]) })
	for _, c := range candidates {
		if c != "" {
			msg = strings.ReplaceAll(msg, c, "xxxxx")
		}
	}
	return msg
}
