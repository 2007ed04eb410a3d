package testkit

import (
	"net/url"
	"os"
	"testing"
)

// MongoURI is TEST_MONGO_URI pointing at database db, for handing a service
// under test its own MONGO_URI (pair it with MongoDB(t).Name()).
func MongoURI(t testing.TB, db string) string {
	t.Helper()
	u, err := url.Parse(os.Getenv("TEST_MONGO_URI"))
	if err != nil {
		t.Fatalf("testkit: TEST_MONGO_URI: %v", err)
	}
	u.Path = "/" + db
	return u.String()
}
