package mongox_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/common/mongox"
	"github.com/ticketing/common/testkit"
)

func titled(v int64) bson.M { return bson.M{"title": fmt.Sprint("v", v), "price": float64(10 + v)} }

func countDocs(t testing.TB, coll *mongo.Collection) int64 {
	t.Helper()
	n, err := coll.CountDocuments(context.Background(), bson.M{})
	require.NoError(t, err)
	return n
}

// One record, events in the order a replica may hear them: each step is one
// event and whether it must change the record.
func TestApplyNewerKeepsTheNewestVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	coll := testkit.MongoDB(t).Collection("replica")
	id := primitive.NewObjectID()

	steps := []struct {
		name    string
		version int64
		applied bool
		want    int64 // the stored version after the step
	}{
		{"an update before its create creates the record", 2, true, 2},
		{"the same version again is a repeat", 2, false, 2},
		{"an older update changes nothing", 1, false, 2},
		{"the create, last, changes nothing", 0, false, 2},
		{"the next version applies", 3, true, 3},
		{"a jump over a missing version applies", 7, true, 7},
		{"the missing one, late, changes nothing", 5, false, 7},
	}
	for _, st := range steps {
		applied, err := mongox.ApplyNewer(ctx, coll, id, st.version, titled(st.version))
		require.NoError(t, err, st.name)
		assert.Equal(t, st.applied, applied, st.name)
		got := findTicket(t, coll, id)
		assert.Equal(t, ticket{ID: id, Version: st.want, Title: fmt.Sprint("v", st.want), Price: float64(10 + st.want)}, got, st.name)
	}
	assert.Equal(t, int64(1), countDocs(t, coll), "one record, however the events came")
}

// Only the named fields are written: what else the record holds stays.
func TestApplyNewerWritesOnlyItsFields(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	coll := testkit.MongoDB(t).Collection("replica")
	id := primitive.NewObjectID()

	applied, err := mongox.ApplyNewer(ctx, coll, id, 1, bson.M{"orderId": "o1"})
	require.NoError(t, err)
	require.True(t, applied)
	applied, err = mongox.ApplyNewer(ctx, coll, id, 0, bson.M{"title": "late", "orderId": ""})
	require.NoError(t, err)
	require.False(t, applied)
	assert.Equal(t, bson.M{"_id": id, "version": int64(1), "orderId": "o1"}, rawDoc(t, coll, id))
}

func TestApplyNewerRefusesOwnedFields(t *testing.T) {
	t.Parallel()
	coll := testkit.MongoDB(t).Collection("replica")
	for _, field := range []string{"_id", "version", "outbox", "outbox.0"} {
		_, err := mongox.ApplyNewer(context.Background(), coll, primitive.NewObjectID(), 1, bson.M{field: 1})
		assert.Error(t, err, field)
	}
	assert.Zero(t, countDocs(t, coll), "nothing written")
}

// Every version of many records delivered at once, in random order and
// twice over, as several workers or replicas of a service would handle
// them: each record ends at its newest version, with that version's fields,
// and exactly one delivery of each version that was the newest when it
// was handled reports applied.
func TestApplyNewerConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	coll := testkit.MongoDB(t).Collection("replica")
	const records, versions, copies = 8, 6, 2

	type delivery struct {
		id primitive.ObjectID
		v  int64
	}
	ids := make([]primitive.ObjectID, records)
	var all []delivery
	for i := range ids {
		ids[i] = primitive.NewObjectID()
		for v := range int64(versions) {
			for range copies {
				all = append(all, delivery{ids[i], v})
			}
		}
	}
	rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })

	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		applied = map[delivery]int{}
		errs    []error
	)
	gate := make(chan struct{})
	for _, d := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			ok, err := mongox.ApplyNewer(ctx, coll, d.id, d.v, titled(d.v))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			if ok {
				applied[d]++
			}
		}()
	}
	close(gate)
	wg.Wait()
	require.Empty(t, errs)

	for _, id := range ids {
		assert.Equal(t, ticket{ID: id, Version: versions - 1, Title: fmt.Sprint("v", versions-1), Price: float64(10 + versions - 1)},
			findTicket(t, coll, id))
		assert.Equal(t, 1, applied[delivery{id, versions - 1}], "the newest version is applied by one of its deliveries")
	}
	for d, n := range applied {
		assert.Equal(t, 1, n, "version %d of %s applied by more than one delivery", d.v, d.id.Hex())
	}
	assert.Equal(t, int64(records), countDocs(t, coll))
}
