package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/stan.go"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/events"
	"github.com/ticketing/tests/localfleet"
	"github.com/ticketing/tools/loadgen/client"
	"github.com/ticketing/tools/loadgen/stats"
)

// maxGapPerKill is how long the API may go without one successful answer
// after a part is killed, when another copy stands beside it: nginx passes
// a dead copy over after one refused connection, NATS elects a new leader
// within its 2 s election timeout, and the Sentinels promote a replica one
// second after the master falls silent.
const maxGapPerKill = 5 * time.Second

// TestHAKeepsServingWhileAPartIsDown runs two copies of every service, the
// three-node bus and Redis with Sentinel (up --replicas 2 --ha), puts the
// purchase and edits load on it through nginx, and kills one copy of each
// service, then the bus's Raft leader, then the Redis master, one at a
// time. While each is down the API must keep answering; afterwards every
// check of the kill test must pass.
func TestHAKeepsServingWhileAPartIsDown(t *testing.T) {
	if !long() {
		t.Skip("the long form only (make faults): it runs two copies of everything")
	}
	f := localfleet.Start(t, []string{"EXPIRATION_WINDOW_SECONDS=" + fmt.Sprint(holdSeconds)},
		"--no-client", "--bus", bus(), "--replicas", "2", "--ha")
	t.Logf("event bus: %s, three nodes", bus())
	app := f.Env["APP_URL"]
	require.NotEmpty(t, app, "the fleet exported no APP_URL")
	for _, name := range []string{"tickets-2", "orders-2"} {
		require.NotEmpty(t, f.URL(name), "no second copy of %s", name)
	}

	const purchasers, editors, pause = 8, 20, 5 * time.Second
	// Everything through nginx, as people reach the fleet.
	l := startLoad(t, client.URLs{Auth: app, Tickets: app, Orders: app, Payments: app}, "ha", purchasers, editors)

	// Alternate the copy killed, so both copies' restarts are tried.
	victims := []func() string{
		fixed("tickets"), fixed("orders-2"), fixed("payments"), fixed("expiration-2"), fixed("auth"),
		func() string { return natsLeader(t, f) },
		func() string { return redisMaster(t, f) },
	}
	type killed struct {
		name    string
		from    time.Time
		away    time.Duration
		out     stats.Outage
		repeats int // events published again in the time up to the next kill
	}
	var kills []killed
	for _, victim := range victims {
		time.Sleep(pause)
		name := victim()
		from := time.Now()
		away := kill(t, f, name)
		time.Sleep(pause) // the load on the fleet as it comes back
		kills = append(kills, killed{name: name, from: from, away: away, out: l.rec.Outage(from, time.Now())})
	}
	for _, k := range kills {
		t.Logf("killed %-14s back after %6s; in the %s after: %4d requests, %3d server errors or no answer, longest without a successful answer %s",
			k.name, k.away.Round(time.Millisecond), (k.away + pause).Round(time.Second), k.out.Requests, k.out.ServerErrs, k.out.LongestGap.Round(time.Millisecond))
	}
	for _, k := range kills {
		assert.LessOrEqual(t, k.out.LongestGap, maxGapPerKill, "the API stopped answering for too long after %s was killed", k.name)
	}

	l.finish(t, f)

	if bus() != "stan" {
		return // JetStream drops a repeated event itself (Nats-Msg-Id)
	}
	// Which kill the repeats followed.
	before := 0
	for _, at := range logDuplicates(t, f) {
		i := len(kills) - 1
		for i >= 0 && at.Before(kills[i].from) {
			i--
		}
		if i < 0 {
			before++
		} else {
			kills[i].repeats++
		}
	}
	t.Logf("events published again: %d before the first kill", before)
	for _, k := range kills {
		t.Logf("events published again after %s was killed (until the next kill): %d", k.name, k.repeats)
	}
}

func fixed(name string) func() string { return func() string { return name } }

// natsLeader is the name of the bus node that leads now: NATS Streaming's
// Raft leader, or JetStream's meta leader (its servers are named after the
// nodes).
func natsLeader(t *testing.T, f *localfleet.Fleet) string {
	t.Helper()
	monitors := strings.Split(f.Env["TEST_NATS_MONITOR_URLS"], ",")
	require.Len(t, monitors, 3, "TEST_NATS_MONITOR_URLS")
	hc := http.Client{Timeout: 2 * time.Second}
	var leader string
	require.Eventually(t, func() bool {
		for i, m := range monitors {
			if bus() == "jetstream" {
				var z struct {
					Meta struct{ Leader string } `json:"meta_cluster"`
				}
				if getJSON(hc, m+"/jsz", &z) == nil && z.Meta.Leader != "" {
					leader = z.Meta.Leader
					return true
				}
				continue
			}
			var z struct{ Role string }
			if getJSON(hc, m+"/streaming/serverz", &z) == nil && z.Role == "Leader" {
				leader = nodeName("nats", i)
				return true
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond, "no NATS Streaming node says it leads")
	return leader
}

func getJSON(hc http.Client, url string, v any) error {
	res, err := hc.Get(url)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	return json.NewDecoder(res.Body).Decode(v)
}

// redisMaster is the name of the Redis node the Sentinels call master now.
func redisMaster(t *testing.T, f *localfleet.Fleet) string {
	t.Helper()
	nodes := strings.Split(f.Env["TEST_REDIS_NODES"], ",")
	sentinels := strings.Split(f.Env["TEST_REDIS_SENTINELS"], ",")
	var master string
	require.Eventually(t, func() bool {
		for _, s := range sentinels {
			addr, err := sentinelMaster(s, f.Env["TEST_REDIS_MASTER_NAME"])
			if err != nil {
				continue
			}
			for i, n := range nodes {
				if n == addr {
					master = nodeName("redis", i)
					return true
				}
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond, "no Sentinel names a master among %v", nodes)
	return master
}

// nodeName names node i (from 0) as bin/local does: nats, nats-2, nats-3.
func nodeName(base string, i int) string {
	if i == 0 {
		return base
	}
	return fmt.Sprintf("%s-%d", base, i+1)
}

// logDuplicates reads every channel of the bus from the start and logs
// how many messages repeat an event already published (same subject,
// record and version; events.MsgID). Several copies' outbox relays, and a
// killed copy's start-up sweep, can publish one event twice; listeners
// apply the newest version (CONTRACT.md §3), so a repeat costs a read.
// It returns when each repeat reached the bus.
func logDuplicates(t *testing.T, f *localfleet.Fleet) (repeats []time.Time) {
	t.Helper()
	sc, err := stan.Connect("ticketing", "faults-dupes-"+fmt.Sprint(os.Getpid()), stan.NatsURL(f.Env["TEST_NATS_URL"]))
	require.NoError(t, err)
	defer sc.Close()
	for _, subject := range events.AllSubjects() {
		var mu sync.Mutex
		seen := map[string]int{}
		total, last := 0, time.Now()
		sub, err := sc.Subscribe(subject, func(m *stan.Msg) {
			mu.Lock()
			defer mu.Unlock()
			total++
			id := events.MsgID(subject, m.Data)
			if seen[id]++; seen[id] > 1 {
				repeats = append(repeats, time.Unix(0, m.Timestamp))
			}
			last = time.Now()
		}, stan.DeliverAllAvailable())
		require.NoError(t, err)
		// The channel is read once nothing more arrives for a second.
		require.Eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return time.Since(last) > time.Second
		}, time.Minute, 100*time.Millisecond)
		_ = sub.Unsubscribe()
		mu.Lock()
		n := total - len(seen)
		t.Logf("%-20s %6d messages, %6d events, %4d repeats (%.2f %%)", subject, total, len(seen), n, 100*float64(n)/float64(max(total, 1)))
		mu.Unlock()
	}
	return repeats
}

// sentinelMaster asks one Sentinel where master is.
func sentinelMaster(sentinel, master string) (string, error) {
	c := redis.NewSentinelClient(&redis.Options{Addr: sentinel, DialTimeout: time.Second, ReadTimeout: time.Second})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	hp, err := c.GetMasterAddrByName(ctx, master).Result()
	if err != nil {
		return "", err
	}
	if len(hp) != 2 {
		return "", fmt.Errorf("sentinel %s answered %v", sentinel, hp)
	}
	return net.JoinHostPort(hp[0], hp[1]), nil
}
