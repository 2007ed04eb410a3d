package app

import (
	"context"
	"errors"
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
func replicatedEnqueue(opt asynq.RedisFailoverClientOpt) (redis.UniversalClient, []expiry.SchedulerOption) {
	opt.PoolSize = 1
	client := opt.MakeRedisClient().(redis.UniversalClient)
	wait := func(ctx context.Context) error {
		// A master without replicas (one Redis watched by Sentinels) has no
		// one to wait for: what it has is all there is.
		replicas, err := connectedReplicas(ctx, client)
		if err != nil || replicas == 0 {
			return err
		}
		n, err := client.Do(ctx, "WAIT", 1, replicaWaitTimeout.Milliseconds()).Int64()
		if err != nil {
			return err
		}
		if n < 1 {
			return errNotReplicated
		}
		return nil
	}
	return client, []expiry.SchedulerOption{expiry.WithReplicaWait(wait)}
}

// connectedReplicas is the master's count of connected replicas, from
// INFO replication.
func connectedReplicas(ctx context.Context, client redis.UniversalClient) (int, error) {
	info, err := client.Info(ctx, "replication").Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "connected_slaves:"); ok {
			return strconv.Atoi(v)
		}
	}
	return 0, errors.New("INFO replication names no connected_slaves")
}
