package mongox

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// ApplyNewer is the one rule of every versioned replica (CONTRACT.md §3): it
// stores set and version on the replica record id only if the record is
// older than version, creating the record if there is none. applied is
// false when the replica holds version or a newer one already; the caller
// acks such an event without change. Events that overtake their
// predecessors are applied at once, and the predecessors then change
// nothing, so no event ever waits for another.
//
// It is one upsert filtered on {_id, version: {$lt: version}}, answered by
// the _id index. No match means the record is newer or equal, or missing:
// the upsert then inserts, and a duplicate key says the record exists.
// That record may have been inserted a moment ago by an older event racing
// this one, so the update is tried once more without upsert; replica
// records are never deleted, so that second answer is final.
//
// set may not name _id, version or outbox.
func ApplyNewer(ctx context.Context, coll *mongo.Collection, id primitive.ObjectID, version int64, set bson.M) (applied bool, err error) {
	fields := bson.M{}
	for k, v := range set {
		if err := checkField(k); err != nil {
			return false, err
		}
		fields[k] = v
	}
	fields[fieldVersion] = version
	filter := bson.M{fieldID: id, fieldVersion: bson.M{"$lt": version}}
	update := bson.M{"$set": fields}

	res, err := coll.UpdateOne(ctx, filter, update, options.Update().SetUpsert(true))
	if err == nil {
		return res.MatchedCount > 0 || res.UpsertedCount > 0, nil
	}
	if !IsDuplicateKey(err) {
		return false, fmt.Errorf("mongox: apply %s %s at version %d: %w", coll.Name(), id.Hex(), version, err)
	}
	res, err = coll.UpdateOne(ctx, filter, update)
	if err != nil {
		return false, fmt.Errorf("mongox: apply %s %s at version %d: %w", coll.Name(), id.Hex(), version, err)
	}
	return res.MatchedCount > 0, nil
}
