package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// SentinelMaster is the name the Sentinel of Sentinel knows its Redis by.
const SentinelMaster = "ticketing"

// Sentinel starts a Redis of this test's own and a Sentinel watching it, as
// a Redis set up for failover is reached, and returns asynq's failover
// option for them. Both stop when the test ends. It runs the redis-server
// that make test installs; without one the test is skipped, or fails when
// CI=true.
func Sentinel(tb testing.TB) asynq.RedisFailoverClientOpt {
	tb.Helper()
	opt, _ := sentinel(tb, 0)
	return opt
}

// Replica is a Redis that replicates the Sentinel's master.
type Replica struct {
	Addr    string
	Process *os.Process // to pause (SIGSTOP) and resume it
}

// SentinelWithReplicas is Sentinel with n replicas of the master, which
// the master has online when it returns.
func SentinelWithReplicas(tb testing.TB, n int) (asynq.RedisFailoverClientOpt, []Replica) {
	tb.Helper()
	return sentinel(tb, n)
}

func sentinel(tb testing.TB, replicas int) (asynq.RedisFailoverClientOpt, []Replica) {
	tb.Helper()
	server, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatal("redis-server is not on PATH; CI must run the Sentinel tests")
		}
		tb.Skip("redis-server is not on PATH: skipping a test that needs a Sentinel")
	}
	dir := tb.TempDir()
	redisPort, sentinelPort := freePort(tb), freePort(tb)
	start(tb, server, "--port", strconv.Itoa(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	var started []Replica
	for range replicas {
		port := freePort(tb)
		started = append(started, Replica{
			Addr: "127.0.0.1:" + strconv.Itoa(port),
			Process: start(tb, server, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
				"--dir", tb.TempDir(), "--replicaof", "127.0.0.1", strconv.Itoa(redisPort)),
		})
	}
	awaitReplicas(tb, "127.0.0.1:"+strconv.Itoa(redisPort), replicas)
	// A Sentinel rewrites its configuration file, so it gets one of its own.
	conf := filepath.Join(dir, "sentinel.conf")
	body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor %s 127.0.0.1 %d 1\n",
		sentinelPort, dir, SentinelMaster, redisPort)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		tb.Fatal(err)
	}
	start(tb, server, conf, "--sentinel")

	addr := "127.0.0.1:" + strconv.Itoa(sentinelPort)
	sc := redis.NewSentinelClient(&redis.Options{Addr: addr})
	defer sc.Close()
	require.EventuallyWithT(tb, func(c *assert.CollectT) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		master, err := sc.GetMasterAddrByName(ctx, SentinelMaster).Result()
		require.NoError(c, err)
		assert.Equal(c, []string{"127.0.0.1", strconv.Itoa(redisPort)}, master)
	}, setUpWait, setUpPoll, "redistest: the Sentinel at %s did not name its Redis", addr)
	return asynq.RedisFailoverClientOpt{MasterName: SentinelMaster, SentinelAddrs: []string{addr}}, started
}

// awaitReplicas waits until the master at addr has n replicas online (done
// with their first full copy: one still syncing acknowledges nothing).
func awaitReplicas(tb testing.TB, addr string, n int) {
	tb.Helper()
	if n == 0 {
		return
	}
	master := redis.NewClient(&redis.Options{Addr: addr})
	defer master.Close()
	require.EventuallyWithT(tb, func(c *assert.CollectT) {
		info, err := master.Info(context.Background(), "replication").Result()
		require.NoError(c, err)
		assert.Equal(c, n, strings.Count(info, "state=online"), "replicas online")
	}, setUpWait, setUpPoll, "redistest: the master at %s has not %d replicas online", addr, n)
}

// setUpWait bounds each wait of the set-up (Redis and its Sentinel come up
// in well under a second here), polled every setUpPoll.
const (
	setUpWait = 30 * time.Second
	setUpPoll = 50 * time.Millisecond
)

// start runs a process for the rest of the test.
func start(tb testing.TB, path string, args ...string) *os.Process {
	tb.Helper()
	cmd := exec.Command(path, args...)
	if err := cmd.Start(); err != nil {
		tb.Fatalf("redistest: start %s: %v", path, err)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT) // a paused one would not die
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd.Process
}

// freePort is a port nothing listens on at the moment.
func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
