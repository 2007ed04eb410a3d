// Package redistest lends each test a database of the shared test Redis.
//
// The Redis at TEST_REDIS_ADDR is shared by tests running in parallel, in
// this process and in others (go test runs packages side by side), and by
// other people's tests. A test therefore claims a database with an atomic
// marker no other claimant can take, works only in it, and empties only it.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

const (
	claimKey = "ticketing:redistest:claim"
	// usedKey marks a database as one this package lends out, so leftovers of
	// a test that crashed may be flushed, while a database holding anyone
	// else's keys is never touched.
	usedKey = "ticketing:redistest:used"
	// claimTTL frees the database of a test process that died without
	// cleaning up; it outlasts go test's default 10-minute timeout.
	claimTTL = 15 * time.Minute
	firstDB  = 1 // database 0 is left to whoever uses Redis without choosing
	lastDB   = 15
)

// claim takes the database if it is free: not claimed, and either empty or
// last used through this package. It empties the database and marks it,
// all in one step that no other client can interleave with.
var claim = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('DBSIZE') > 0 and redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
redis.call('FLUSHDB')
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], '1')
return 1
`)

// release empties the database, claim included, if the claim is still ours.
var release = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('FLUSHDB')
return 1
`)

// Addr is TEST_REDIS_ADDR. Without it the test is skipped, or fails when
// CI=true, where every test must run.
func Addr(tb testing.TB) string {
	tb.Helper()
	addr := os.Getenv("TEST_REDIS_ADDR")
	if addr == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal("TEST_REDIS_ADDR is not set; CI must run the Redis tests")
		}
		tb.Skip("TEST_REDIS_ADDR is not set: skipping a test that needs Redis (make test sets it)")
	}
	return addr
}

// DB claims an empty database for this test and empties it again when the
// test ends. It waits while every database is claimed by other tests.
func DB(tb testing.TB) asynq.RedisClientOpt {
	tb.Helper()
	addr := Addr(tb)
	token := newToken(tb)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for {
		for n := firstDB; n <= lastDB; n++ {
			ok, err := try(ctx, rdb, n, claim, token, claimTTL.Milliseconds())
			if err != nil {
				tb.Fatalf("redistest: claim database %d at %s: %v", n, addr, err)
			}
			if ok {
				tb.Cleanup(func() { releaseDB(tb, addr, n, token) })
				return asynq.RedisClientOpt{Addr: addr, DB: n}
			}
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("redistest: no free database at %s: all of %d..%d are claimed or hold others' keys", addr, firstDB, lastDB)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// URL is opt as a REDIS_URL value.
func URL(opt asynq.RedisClientOpt) string {
	return fmt.Sprintf("redis://%s/%d", opt.Addr, opt.DB)
}

// Client is a plain Redis client for opt's database, closed when the test ends.
func Client(tb testing.TB, opt asynq.RedisClientOpt) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: opt.Addr, DB: opt.DB})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// try runs script on database n over one connection, since SELECT applies
// to a connection, not to the client's pool.
func try(ctx context.Context, rdb *redis.Client, n int, script *redis.Script, args ...any) (bool, error) {
	conn := rdb.Conn()
	defer conn.Close()
	if err := conn.Select(ctx, n).Err(); err != nil {
		return false, err
	}
	res, err := script.Run(ctx, conn, []string{claimKey, usedKey}, args...).Int()
	return res == 1, err
}

func releaseDB(tb testing.TB, addr string, n int, token string) {
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if ok, err := try(ctx, rdb, n, release, token); err != nil || !ok {
		tb.Logf("redistest: database %d was not released cleanly (claimed=%v, err=%v); it frees itself within %v", n, ok, err, claimTTL)
	}
}

func newToken(tb testing.TB) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return tb.Name() + "/" + hex.EncodeToString(b)
}
