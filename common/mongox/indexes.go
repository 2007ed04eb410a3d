package mongox

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/mongo"
)

// EnsureIndexes creates the given indexes at start-up. Creating an index that
// already exists with the same keys and options is a no-op, so every replica
// of a service may call it on every start.
//
// Indexes are created one per command: FerretDB v1.24 drops the connection
// (a panic in its handler) when one createIndexes command names two or more
// indexes that all exist already, which is every start after the first.
//
// An existing index of the same name whose uniqueness differs is an error:
// MongoDB refuses such a create, but FerretDB accepts it silently and keeps
// the old index, and a unique index that quietly is not unique would let two
// buyers reserve one ticket.
func EnsureIndexes(ctx context.Context, coll *mongo.Collection, models ...mongo.IndexModel) error {
	if len(models) == 0 {
		return nil
	}
	where := coll.Database().Name() + "." + coll.Name()
	names := make([]string, len(models))
	for i, m := range models {
		name, err := coll.Indexes().CreateOne(ctx, m)
		if err != nil {
			return fmt.Errorf("mongox: create index %d of %d on %s: %w", i+1, len(models), where, err)
		}
		names[i] = name
	}
	specs, err := coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		return fmt.Errorf("mongox: list indexes on %s: %w", where, err)
	}
	unique := make(map[string]bool, len(specs))
	for _, s := range specs {
		unique[s.Name] = s.Unique != nil && *s.Unique
	}
	for i, name := range names {
		want := models[i].Options != nil && models[i].Options.Unique != nil && *models[i].Options.Unique
		got, ok := unique[name]
		if !ok {
			return fmt.Errorf("mongox: index %s on %s missing after create", name, where)
		}
		if got != want {
			return fmt.Errorf("mongox: index %s on %s exists with unique=%t, want unique=%t; drop it to rebuild",
				name, where, got, want)
		}
	}
	return nil
}

// IsDuplicateKey reports whether err, however wrapped, is a unique index
// violation from an insert or an update.
//
// FerretDB reports an insert's violation as MongoDB does (code 11000), but an
// update's as an InternalError (code 1) carrying SQLite's message, which the
// driver's own check does not recognise.
func IsDuplicateKey(err error) bool {
	if mongo.IsDuplicateKeyError(err) {
		return true
	}
	var se mongo.ServerError
	return errors.As(err, &se) && se.HasErrorCodeWithMessage(1, "UNIQUE constraint failed")
}
