// Package faults breaks the running fleet on purpose, while the load
// generator's purchase and edits scenarios run against it, and then checks
// that nothing was lost: every process of the fleet is killed with SIGKILL
// in turn and started again by the launcher, and the database is made
// unreachable for ten seconds. The state must then converge: no lost event,
// no replica out of step, no ticket held twice, every hold lapsed or paid.
//
// `go test` runs the short form (one round, light load). FAULTS_LONG=1
// (make faults) runs the long form: more rounds, more load, the database's
// own process killed too. FAULTS_BUS=jetstream (make faults BUS=jetstream)
// runs the fleet on NATS JetStream instead of NATS Streaming.
package faults

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/ticketing/tests/localfleet"
	"github.com/ticketing/tools/loadgen/check"
	"github.com/ticketing/tools/loadgen/client"
	"github.com/ticketing/tools/loadgen/scenario"
)

// bus is the event bus the fleet runs: FAULTS_BUS, stan (NATS Streaming)
// unless it says jetstream (make faults BUS=jetstream).
func bus() string {
	if b := os.Getenv("FAULTS_BUS"); b != "" {
		return b
	}
	return "stan"
}

// long reports whether the long form was asked for.
func long() bool { return os.Getenv("FAULTS_LONG") == "1" }

// holdSeconds is the fleet's hold window: short, so holds lapse while the
// test watches.
const holdSeconds = 4

// holdGrace is how long past its expiresAt an order may still be created
// here. The load generator's bound is 5 s; a hold that falls due while the
// expiration service, Redis, NATS or the database is down lapses once they
// are back, so this suite asks only that every hold lapses, within a bound
// that covers a restart.
const holdGrace = 90 * time.Second

// settle bounds the wait for the state to converge after the kills. A
// message that a killed listener had received but not acked is redelivered
// only once NATS Streaming has given the dead client up, which with its
// default heartbeats (every 30 s, 10 misses) takes up to five minutes; the
// long form, which kills NATS and every listener three times, waits that
// out.
func settle() time.Duration {
	if long() {
		return 6 * time.Minute
	}
	return 2 * time.Minute
}

func startFleet(t *testing.T) *localfleet.Fleet {
	t.Helper()
	f := localfleet.Start(t, []string{"EXPIRATION_WINDOW_SECONDS=" + strconv.Itoa(holdSeconds)}, "--no-client", "--bus", bus())
	t.Logf("event bus: %s", bus())
	for _, name := range []string{"auth", "tickets", "orders", "payments", "expiration"} {
		require.NotEmpty(t, f.URL(name), "the fleet exported no URL for %s", name)
	}
	require.NotEmpty(t, f.Env["LOCAL_DATA_DIR"])
	return f
}

// urls are the services the load talks to, on their own ports.
func urls(f *localfleet.Fleet) client.URLs {
	return client.URLs{Auth: f.URL("auth"), Tickets: f.URL("tickets"), Orders: f.URL("orders"), Payments: f.URL("payments")}
}

// databases opens the services' databases on the fleet's FerretDB.
func databases(t *testing.T, f *localfleet.Fleet) check.DBs {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := mongo.Connect(ctx, options.Client().ApplyURI(f.Env["TEST_MONGO_URI"]).SetServerSelectionTimeout(5*time.Second))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return check.DBs{Tickets: c.Database("tickets"), Orders: c.Database("orders"), Payments: c.Database("payments")}
}

// pid reads the pid the launcher recorded for one of its children.
func pid(f *localfleet.Fleet, name string) (int, error) {
	b, err := os.ReadFile(filepath.Join(f.Env["LOCAL_DATA_DIR"], "pids", name+".pid"))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// addr is where a part of the fleet accepts connections.
func addr(t *testing.T, f *localfleet.Fleet, name string) string {
	t.Helper()
	var raw string
	base, node := name, 0
	if b, n, ok := strings.Cut(name, "-"); ok && (b == "nats" || b == "redis") {
		if i, err := strconv.Atoi(n); err == nil {
			base, node = b, i-1
		}
	}
	switch base {
	case "mongo":
		raw = f.Env["TEST_MONGO_URI"]
	case "nats":
		// Under --ha, the nodes' URLs in order.
		urls := strings.Split(f.Env["TEST_NATS_URL"], ",")
		require.Less(t, node, len(urls), "%s in TEST_NATS_URL", name)
		raw = urls[node]
	case "redis":
		if nodes := f.Env["TEST_REDIS_NODES"]; nodes != "" {
			addrs := strings.Split(nodes, ",")
			require.Less(t, node, len(addrs), "%s in TEST_REDIS_NODES", name)
			return addrs[node]
		}
		return f.Env["TEST_REDIS_ADDR"]
	case "stripe-mock":
		raw = f.Env["TEST_STRIPE_API_BASE"]
	default:
		raw = f.URL(name)
	}
	u, err := url.Parse(raw)
	require.NoError(t, err, "%s address %q", name, raw)
	require.NotEmpty(t, u.Host, "%s address %q", name, raw)
	return u.Host
}

// up reports whether a part answers: a service's /healthz, any other
// part's TCP port.
func up(t *testing.T, f *localfleet.Fleet, name string) bool {
	t.Helper()
	if u := f.URL(name); u != "" {
		hc := http.Client{Timeout: 2 * time.Second}
		res, err := hc.Get(u + "/healthz")
		if err != nil {
			return false
		}
		_ = res.Body.Close()
		return res.StatusCode == http.StatusOK
	}
	c, err := net.DialTimeout("tcp", addr(t, f, name), time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// kill sends SIGKILL to one child of the launcher and waits until the
// launcher has started it again and it answers. It returns how long the
// part was away.
func kill(t *testing.T, f *localfleet.Fleet, name string) time.Duration {
	t.Helper()
	old, err := pid(f, name)
	require.NoError(t, err, "pid of %s", name)
	start := time.Now()
	require.NoError(t, syscall.Kill(old, syscall.SIGKILL), "kill -9 %s (pid %d)", name, old)
	deadline := start.Add(60 * time.Second)
	for {
		if p, err := pid(f, name); err == nil && p != old && up(t, f, name) {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s was not back within 60 s of kill -9", name)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// awaitDead waits until a killed process is gone (reaped by the launcher).
func awaitDead(pid int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("pid %d still there after %s", pid, timeout)
}

// runChecks waits for the state to settle and checks it.
func runChecks(t *testing.T, f *localfleet.Fleet, env *scenario.Env) (check.Outcome, error) {
	t.Helper()
	return check.Run(context.Background(), databases(t, f), env.Ledger, check.Options{
		Grace: holdGrace, Settle: settle(), Logf: t.Logf,
	})
}

// requireChecksPass fails the test for every check that failed.
func requireChecksPass(t *testing.T, out check.Outcome) {
	t.Helper()
	failed := 0
	for _, r := range out.Results {
		if r.Failed() {
			failed++
			t.Errorf("check failed: %s: %d of %d %s\n  %s", r.Name, r.Failures, r.Judged, r.Detail, strings.Join(r.Examples, "\n  "))
		} else {
			t.Logf("check %s: %s (%d judged) %s", r.Status, r.Name, r.Judged, r.Detail)
		}
	}
	if failed == 0 {
		t.Logf("the state settled %.1f s after the load", out.Waited.Seconds())
	}
}
