package security

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/ticketing/tests/localfleet"
)

// suite is one fleet shared by the checks below: starting a fleet costs
// seconds, and the checks do not disturb each other, except the brute-force
// one, which runs last because it locks the test's address out of sign-in.
type suite struct {
	fleet  *localfleet.Fleet
	api    *api
	jwtKey string
	// logDir is where localfleet keeps the fleet's log (see fleetLog).
	logDir string
}

func TestSecurity(t *testing.T) {
	// localfleet puts its log in a directory of t.TempDir's parent; make
	// ours first so the parent is known.
	marker := t.TempDir()
	fleet := localfleet.Start(t, []string{"EXPIRATION_WINDOW_SECONDS=120"}, "--no-client")
	urls := map[string]string{}
	for _, s := range []string{"auth", "tickets", "orders", "payments"} {
		urls[s] = fleet.URL(s)
		require.NotEmpty(t, urls[s], "the fleet exported no URL for %s", s)
	}
	s := &suite{fleet: fleet, api: newAPI(urls), jwtKey: fleet.Env["JWT_KEY"], logDir: filepath.Dir(marker)}
	require.NotEmpty(t, s.jwtKey)

	t.Run("authorization matrix", s.testAuthorizationMatrix)
	t.Run("forged and garbled sessions", s.testForgedSessions)
	t.Run("malformed bodies and ids", s.testBodies)
	t.Run("cookie attributes", s.testCookieAttributes)
	t.Run("password hashes never leave auth", s.testNoPasswordHashes)
	t.Run("sign-in guessing is slowed", s.testBruteForce)
}

// authDB is the auth service's database in the fleet.
func (s *suite) authDB(t *testing.T) *mongo.Database {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := mongo.Connect(ctx, options.Client().ApplyURI(s.fleet.Env["TEST_MONGO_URI"]))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c.Database("auth")
}

// fleetLog returns everything the fleet has logged so far. localfleet
// writes it to fleet.log in a temporary directory of the test.
func (s *suite) fleetLog(t *testing.T) []byte {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(s.logDir, "*", "fleet.log"))
	require.NoError(t, err)
	require.Len(t, matches, 1, "localfleet's log not found under %s", s.logDir)
	data, err := os.ReadFile(matches[0])
	require.NoError(t, err)
	require.NotEmpty(t, data)
	return data
}
