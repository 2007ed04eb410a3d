package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/ticketing/services/expiration/internal/expiry"
)

// replicaWaitTimeout bounds one wait for a replica's acknowledgement; a
// timer not acknowledged by then fails its order:created, which comes back
// after the ack wait and is tried again. An acknowledgement normally takes
// a millisecond, but a replica just done with its first copy took more
// than 500 ms for the first one under make test's load. WAIT returns at
// the first replica's acknowledgement, so only when every replica is away
// does a timer wait this long.
const replicaWaitTimeout = 2 * time.Second

// errNotReplicated says no replica acknowledged the writes in time.
var errNotReplicated = errors.New("no replica acknowledged the write in time")

// replicatedEnqueue is, for Redis under Sentinel, a client of one
// connection for writing timers, and the wait that follows each write:
// WAIT covers the writes of the connection it is sent on, so the timers
// and the WAIT must share that one connection (expiry.WithReplicaWait).
//
// The wait is for every replica that is online, not just one: the
// Sentinels promote the replica they last saw furthest along, from INFO
// they read up to a second earlier, and a replica that lags by a few
// writes may be promoted over one that had them. With two replicas,
// WAIT 1 lost holds that way in the fault suite.
func replicatedEnqueue(opt asynq.RedisFailoverClientOpt) (redis.UniversalClient, []expiry.SchedulerOption) {
	opt.PoolSize = 1
	client := opt.MakeRedisClient().(redis.UniversalClient)
	wait := func(ctx context.Context) error {
		// A master without replicas (one Redis watched by Sentinels) has no
		// one to wait for: what it has is all there is.
		replicas, err := onlineReplicas(ctx, client)
		if err != nil || replicas == 0 {
			return err
		}
		n, err := client.Do(ctx, "WAIT", replicas, replicaWaitTimeout.Milliseconds()).Int64()
		if err != nil {
			return err
		}
		if n < int64(replicas) {
			return fmt.Errorf("%w: %d of %d", errNotReplicated, n, replicas)
		}
		return nil
	}
	return client, []expiry.SchedulerOption{expiry.WithReplicaWait(wait)}
}

// onlineReplicas counts, from the master's INFO replication, the replicas
// done with their first copy: one still taking it acknowledges nothing
// until it is done, and waiting for it would fail every timer until then.
func onlineReplicas(ctx context.Context, client redis.UniversalClient) (int, error) {
	info, err := client.Info(ctx, "replication").Result()
	if err != nil {
		return 0, err
	}
	return countOnline(info)
}

// countOnline reads INFO replication: one "slaveN:ip=...,state=online,..."
// line per connected replica.
func countOnline(info string) (int, error) {
	if !strings.Contains(info, "connected_slaves:") {
		return 0, errors.New("INFO replication names no connected_slaves")
	}
	n := 0
	for _, line := range strings.Split(info, "\n") {
		key, fields, ok := strings.Cut(strings.TrimSpace(line), ":")
		index, isReplica := strings.CutPrefix(key, "slave")
		if _, err := strconv.Atoi(index); !ok || !isReplica || err != nil {
			continue
		}
		if slices.Contains(strings.Split(fields, ","), "state=online") {
			n++
		}
	}
	return n, nil
}
