package bench

import (
	"context"
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/common/events"
	"github.com/ticketing/common/mongox"
	"github.com/ticketing/common/testkit"
)

type record struct {
	ID      primitive.ObjectID   `bson:"_id"`
	Title   string               `bson:"title"`
	Price   float64              `bson:"price"`
	Version int64                `bson:"version"`
	Outbox  []mongox.OutboxEvent `bson:"outbox,omitempty"`
}

// collectionSizes are the numbers of other records in the collection. They
// matter on FerretDB's SQLite backend: it turns a filter into an SQL lookup
// only when the filter is {_id} alone, so the {_id, version} filter of a
// versioned update reads and decodes every record of the collection.
var collectionSizes = []int{1, 1000}

// BenchmarkVersionedUpdateRoundTrip is one change of a replicated record
// against FerretDB (TEST_MONGO_URI): the versioned update, then reading the
// record back, as a handler that answers with the new state does.
func BenchmarkVersionedUpdateRoundTrip(b *testing.B) {
	for _, n := range collectionSizes {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) { benchVersioned(b, n, false) })
	}
}

// BenchmarkVersionedUpdateWithOutbox adds the event: the update appends it
// to the outbox, and the relay's removal of the head follows, so one
// iteration is every database write one ticket edit costs.
func BenchmarkVersionedUpdateWithOutbox(b *testing.B) {
	for _, n := range collectionSizes {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) { benchVersioned(b, n, true) })
	}
}

// BenchmarkUpdateByIDOnly is the same change with the filter {_id} alone,
// which FerretDB looks up by key: the cost of the update itself, without
// the scan that the version in the filter brings. (It is not a safe update:
// it has no version check. It is here as the yardstick.)
func BenchmarkUpdateByIDOnly(b *testing.B) {
	for _, n := range collectionSizes {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			coll, id := seed(b, n)
			ctx := context.Background()
			version := int64(0)
			b.ReportAllocs()
			for b.Loop() {
				version++
				res, err := coll.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"price": float64(10 + version%50), "version": version}})
				if err != nil || res.MatchedCount != 1 {
					b.Fatalf("update: %v (matched %d)", err, res.MatchedCount)
				}
			}
		})
	}
}

// seed makes a collection of n records and returns the id of one.
func seed(b *testing.B, n int) (*mongo.Collection, primitive.ObjectID) {
	b.Helper()
	db := testkit.MongoDB(b)
	ctx := context.Background()
	coll := db.Collection("tickets")
	id := primitive.NewObjectID()
	docs := []any{record{ID: id, Title: "opera", Price: 10}}
	for i := 1; i < n; i++ {
		docs = append(docs, record{ID: primitive.NewObjectID(), Title: fmt.Sprintf("other %d", i), Price: 20})
	}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		b.Fatal(err)
	}
	return coll, id
}

func benchVersioned(b *testing.B, records int, withEvent bool) {
	coll, id := seed(b, records)
	ctx := context.Background()
	version := int64(0)
	b.ReportAllocs()
	for b.Loop() {
		price := float64(10 + version%50)
		ch := mongox.Change{Set: bson.M{"price": price}}
		var ev mongox.OutboxEvent
		if withEvent {
			var err error
			ev, err = mongox.NewOutboxEvent(string(events.SubjectTicketUpdated),
				events.TicketUpdated{ID: id.Hex(), Version: version + 1, Title: "opera", Price: price, UserID: id.Hex()})
			if err != nil {
				b.Fatal(err)
			}
			ch.Events = []mongox.OutboxEvent{ev}
		}
		if err := mongox.UpdateVersioned(ctx, coll, id, version, ch); err != nil {
			b.Fatal(err)
		}
		version++
		var got record
		if err := coll.FindOne(ctx, bson.M{"_id": id}).Decode(&got); err != nil {
			b.Fatal(err)
		}
		if got.Version != version || got.Price != price {
			b.Fatalf("read back v%d price %v, want v%d price %v", got.Version, got.Price, version, price)
		}
		if withEvent {
			// The relay's removal: the head only if it is the event just sent.
			res, err := coll.UpdateOne(ctx, bson.M{"_id": id, "outbox.0.id": ev.ID}, bson.M{"$pop": bson.M{"outbox": -1}})
			if err != nil || res.ModifiedCount != 1 {
				b.Fatalf("remove the published event: %v (modified %d)", err, res.ModifiedCount)
			}
		}
	}
}
