package main

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// startStore runs the ferretdb subcommand in this process with one funnel,
// and returns the store's own address and the funnel's.
func startStore(t *testing.T) (store, funnelAddr string) {
	t.Helper()
	ports, err := freePorts(2)
	require.NoError(t, err)
	store, funnelAddr = hostPort(ports[0]), hostPort(ports[1])
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runFerretDB(ctx, []string{"--dir", t.TempDir(), "--listen", store, "--funnel", funnelAddr}, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	for _, a := range []string{store, funnelAddr} {
		require.Eventually(t, func() bool {
			c, err := net.DialTimeout("tcp", a, time.Second)
			if err == nil {
				_ = c.Close()
			}
			return err == nil
		}, 10*time.Second, 10*time.Millisecond, "nothing listens on %s", a)
	}
	return store, funnelAddr
}

// versionedRace has copies clients, each with one connection as a service
// copy has, race to move one record from version v to v+1 with the
// {_id, version} filter. It returns how many updates reported a win and the
// version the record ended at: equal when the filter is atomic.
func versionedRace(t *testing.T, addr string, copies, attempts int) (wins int64, final int64) {
	t.Helper()
	ctx := context.Background()
	var colls []*mongo.Collection
	for range copies {
		c, err := mongo.Connect(ctx, options.Client().ApplyURI("mongodb://"+addr+"/?maxPoolSize=1"))
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
		colls = append(colls, c.Database("race").Collection("records"))
	}
	_, _ = colls[0].DeleteMany(ctx, bson.M{})
	_, err := colls[0].InsertOne(ctx, bson.M{"_id": "r", "version": int64(0)})
	require.NoError(t, err)

	var won atomic.Int64
	var wg sync.WaitGroup
	for _, coll := range colls {
		for range 2 { // two requests of one copy at once, as handlers and the relay do
			wg.Go(func() {
				for range attempts {
					var rec struct{ Version int64 }
					if !assert.NoError(t, coll.FindOne(ctx, bson.M{"_id": "r"}).Decode(&rec)) {
						return
					}
					res, err := coll.UpdateOne(ctx, bson.M{"_id": "r", "version": rec.Version},
						bson.M{"$set": bson.M{"version": rec.Version + 1}})
					if !assert.NoError(t, err) {
						return
					}
					won.Add(res.ModifiedCount)
				}
			})
		}
	}
	wg.Wait()
	var rec struct{ Version int64 }
	require.NoError(t, colls[0].FindOne(ctx, bson.M{"_id": "r"}).Decode(&rec))
	return won.Load(), rec.Version
}

func TestFunnelKeepsVersionedUpdatesAtomicAcrossCopies(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real store; not with -short")
	}
	store, funnelAddr := startStore(t)

	// Straight to the store, each copy its own connection: the figure shows
	// why the funnel exists (FerretDB may let two copies win one version).
	wins, final := versionedRace(t, store, 4, 100)
	t.Logf("4 copies straight to the store: %d updates won, the record moved %d versions", wins, final)

	wins, final = versionedRace(t, funnelAddr, 4, 100)
	t.Logf("4 copies through the funnel: %d updates won, the record moved %d versions", wins, final)
	assert.Positive(t, final)
	assert.Equal(t, final, wins, "through the funnel every won update moves the record exactly one version")
}

// A stream of answers would hold the shared connection for as long as the
// server keeps streaming; the funnel asks for single answers instead.
func TestFunnelClearsExhaust(t *testing.T) {
	msg := make([]byte, wireHeaderLen+4)
	binary.LittleEndian.PutUint32(msg[12:], opMsg)
	binary.LittleEndian.PutUint32(msg[wireHeaderLen:], msgExhaust|msgMoreToCome)
	clearExhaust(msg)
	assert.Equal(t, uint32(msgMoreToCome), msgFlags(msg))

	binary.LittleEndian.PutUint32(msg[wireHeaderLen:], msgExhaust|msgChecksum)
	clearExhaust(msg)
	assert.Equal(t, uint32(msgExhaust|msgChecksum), msgFlags(msg), "a checksummed message is left as sent")
}

func TestFunnelCommandName(t *testing.T) {
	body, err := bson.Marshal(bson.D{{Key: "hello", Value: 1}, {Key: "$db", Value: "admin"}})
	require.NoError(t, err)
	seq := []byte{1, 9, 0, 0, 0, 'd', 'o', 'c', 's', 0} // a document sequence, size 9, no documents
	for _, tc := range []struct {
		name     string
		sections [][]byte
		want     string
		direct   bool
	}{
		{"body only", [][]byte{append([]byte{0}, body...)}, "hello", true},
		{"sequence first", [][]byte{seq, append([]byte{0}, body...)}, "hello", true},
		{"no body", [][]byte{seq}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := make([]byte, wireHeaderLen+4)
			binary.LittleEndian.PutUint32(msg[12:], opMsg)
			for _, s := range tc.sections {
				msg = append(msg, s...)
			}
			binary.LittleEndian.PutUint32(msg, uint32(len(msg)))
			assert.Equal(t, tc.want, commandName(msg))
			assert.Equal(t, tc.direct, isDirect(msg))
		})
	}
}
