package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/common/mongox"
)

// MongoDB returns a database of its own for this test, on the server named by
// TEST_MONGO_URI, and drops it when the test ends. Without TEST_MONGO_URI the
// test is skipped, except under CI=true, where a missing database must not
// pass as a green run.
//
// Each call has its own client, so tests may run in parallel and a test can
// never see another's pool or data.
func MongoDB(t testing.TB) *mongo.Database {
	t.Helper()
	uri := os.Getenv("TEST_MONGO_URI")
	if uri == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TEST_MONGO_URI not set under CI=true; run via make test")
		}
		t.Skip("TEST_MONGO_URI not set; run via make test")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	client, err := mongox.Connect(ctx, uri, 10*time.Second)
	if err != nil {
		t.Fatalf("testkit: %v", err)
	}
	db := client.Database(dbName(t))

	t.Cleanup(func() {
		// t.Context() is already done when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := db.Drop(ctx); err != nil {
			t.Errorf("testkit: drop database %s: %v", db.Name(), err)
		}
		if err := client.Disconnect(ctx); err != nil {
			t.Errorf("testkit: disconnect: %v", err)
		}
	})
	return db
}

// dbName is unique per call and shows which test made it, in case a crashed
// run leaves it behind. It stays within FerretDB's limit of 63 characters
// from [A-Za-z0-9_-].
func dbName(t testing.TB) string {
	var b strings.Builder
	for _, r := range strings.ToLower(t.Name()) {
		if b.Len() >= 40 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	var suffix [6]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		t.Fatalf("testkit: random database name: %v", err)
	}
	return "t_" + b.String() + "_" + hex.EncodeToString(suffix[:])
}
