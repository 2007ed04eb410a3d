package mongox_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/mongox"
	"github.com/ticketing/common/testkit"
)

func TestEnsureIndexes(t *testing.T) {
	t.Parallel()
	db := testkit.MongoDB(t)
	ctx := context.Background()
	coll := db.Collection("users")
	unique := mongo.IndexModel{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true)}
	plain := mongo.IndexModel{Keys: bson.D{{Key: "userId", Value: 1}, {Key: "_id", Value: 1}}}

	require.NoError(t, mongox.EnsureIndexes(ctx, coll), "no models is a no-op")
	require.NoError(t, mongox.EnsureIndexes(ctx, coll, unique, plain))
	require.NoError(t, mongox.EnsureIndexes(ctx, coll, unique, plain), "a second start finds them in place")

	_, err := coll.InsertOne(ctx, bson.M{"email": "a@x.io", "userId": "u"})
	require.NoError(t, err)
	_, err = coll.InsertOne(ctx, bson.M{"email": "b@x.io", "userId": "u"})
	require.NoError(t, err, "the plain index is not unique")

	t.Run("insert of a duplicate", func(t *testing.T) {
		_, err := coll.InsertOne(ctx, bson.M{"email": "a@x.io"})
		require.Error(t, err)
		assert.True(t, mongox.IsDuplicateKey(fmt.Errorf("store: %w", err)), "got %v", err)
	})
	t.Run("update into a duplicate", func(t *testing.T) {
		_, err := coll.UpdateOne(ctx, bson.M{"email": "b@x.io"}, bson.M{"$set": bson.M{"email": "a@x.io"}})
		require.Error(t, err)
		assert.True(t, mongox.IsDuplicateKey(err), "got %v", err)
		assert.False(t, mongox.MayHaveStored(err), "a duplicate stored nothing")
	})
	t.Run("a write whose caller hung up", func(t *testing.T) {
		gone, cancel := context.WithCancel(ctx)
		cancel()
		_, err := coll.InsertOne(gone, bson.M{"email": "c@x.io"})
		require.Error(t, err)
		assert.True(t, mongox.MayHaveStored(err), "its outcome is unknown: got %v", err)
		assert.True(t, mongox.MayHaveStored(nil))
		assert.False(t, mongox.MayHaveStored(fmt.Errorf("update: %w", errs.ErrConflict)))
	})
	t.Run("changed uniqueness is refused", func(t *testing.T) {
		notUnique := mongo.IndexModel{Keys: bson.D{{Key: "email", Value: 1}}}
		err := mongox.EnsureIndexes(ctx, coll, notUnique)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "email_1")
	})
}

func TestIsDuplicateKeyWithoutServer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain error", errors.New("E11000 lookalike"), false},
		{"no documents", mongo.ErrNoDocuments, false},
		{"write error 11000", mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 11000, Message: "E11000 duplicate key"}}}, true},
		{"wrapped write error 11000", fmt.Errorf("insert: %w", mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 11000}}}), true},
		{"other write error", mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 2, Message: "bad value"}}}, false},
		{"FerretDB update violation", mongo.CommandError{Code: 1, Name: "InternalError", Message: "constraint failed: UNIQUE constraint failed: index 'x_email_1' (2067)"}, true},
		{"other internal error", mongo.CommandError{Code: 1, Name: "InternalError", Message: "disk full"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, mongox.IsDuplicateKey(tt.err))
		})
	}
}
