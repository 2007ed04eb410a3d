package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Failures is the log of failed sign-ins that every copy of the service
// shares (user.FailureLog): one record per key, read and written by _id,
// holding the times of that key's newest failures.
type Failures struct {
	coll *mongo.Collection
}

type failuresDoc struct {
	Key string      `bson:"_id"`
	At  []time.Time `bson:"at"`
	// Last is the newest failure, so stale records are found by an index
	// (ForgetBefore) rather than by reading every array.
	Last time.Time `bson:"last"`
}

// lastIndex serves ForgetBefore.
const lastIndex = "last"

// EnsureIndexes creates the index ForgetBefore reads through.
func (s *Failures) EnsureIndexes(ctx context.Context) error {
	_, err := s.coll.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: "last", Value: 1}}, Options: options.Index().SetName(lastIndex),
	})
	if err != nil {
		return fmt.Errorf("failures index: %w", err)
	}
	return nil
}

// NewFailures uses the "signinFailures" collection of db.
func NewFailures(db *mongo.Database) *Failures {
	return &Failures{coll: db.Collection("signinFailures")}
}

// Recent returns key's failures at or after since.
func (s *Failures) Recent(ctx context.Context, key string, since time.Time) ([]time.Time, error) {
	var doc failuresDoc
	err := s.coll.FindOne(ctx, bson.M{"_id": key}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find failures: %w", err)
	}
	var out []time.Time
	for _, t := range doc.At {
		if !t.Before(since) {
			out = append(out, t)
		}
	}
	return out, nil
}

// Add appends a failure at t, so two copies failing the same key at once
// both count, and then drops the oldest while more than keep are kept. The
// trim is its own update, popping the head only while an element past keep
// exists: a `$push` with `$slice` would do both at once on MongoDB, but the
// local store ignores `$slice`.
func (s *Failures) Add(ctx context.Context, key string, t time.Time, keep int) error {
	// $max keeps last the newest even when two copies' failures arrive
	// out of order.
	_, err := s.coll.UpdateOne(ctx, bson.M{"_id": key},
		bson.M{"$push": bson.M{"at": t.UTC()}, "$max": bson.M{"last": t.UTC()}}, options.Update().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("add failure: %w", err)
	}
	tooMany := bson.M{"_id": key, fmt.Sprintf("at.%d", keep): bson.M{"$exists": true}}
	for range maxTrims {
		res, err := s.coll.UpdateOne(ctx, tooMany, bson.M{"$pop": bson.M{"at": -1}})
		if err != nil {
			return fmt.Errorf("trim failures: %w", err)
		}
		if res.ModifiedCount == 0 {
			return nil
		}
	}
	return nil // the next Add trims the rest
}

// maxTrims bounds one Add's trimming; each Add adds one, so one trim a call
// keeps the record at keep, and a few more catch up after a lowered limit.
const maxTrims = 8

// Clear forgets key.
func (s *Failures) Clear(ctx context.Context, key string) error {
	if _, err := s.coll.DeleteOne(ctx, bson.M{"_id": key}); err != nil {
		return fmt.Errorf("clear failures: %w", err)
	}
	return nil
}

// ForgetBefore deletes the records whose newest failure is before cutoff.
// They no longer limit anyone, and a key that never signs in successfully
// (an address that only ever guessed) would otherwise keep its record for
// good. MongoDB could expire them with a TTL index; the local store has
// none, so the service sweeps (app.failureSweep).
func (s *Failures) ForgetBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.coll.DeleteMany(ctx, bson.M{"last": bson.M{"$lt": cutoff.UTC()}})
	if err != nil {
		return 0, fmt.Errorf("forget old failures: %w", err)
	}
	return res.DeletedCount, nil
}
