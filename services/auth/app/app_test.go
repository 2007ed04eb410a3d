package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"

	"github.com/ticketing/common/session"
	"github.com/ticketing/common/testkit"
	"github.com/ticketing/services/auth/app"
)

func TestNewRefusesMissingDependencies(t *testing.T) {
	_, err := app.New(context.Background(), app.Deps{})
	assert.EqualError(t, err, "auth app: missing dependencies [DB Sessions]")
}

// The app serves the auth routes over its own database: a sign-up is
// answered with the user and the session cookie.
func TestAppServesSignUp(t *testing.T) {
	srv := startApp(t, app.Deps{DB: testkit.MongoDB(t)})
	res, err := http.Post(srv.URL+"/api/users/signup", "application/json",
		strings.NewReader(`{"email":"app@example.com","password":"secret"}`))
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Equal(t, http.StatusCreated, res.StatusCode)
	assert.NotEmpty(t, res.Cookies(), "a session cookie is set")
}

// A failed sign-in leaves a record that limits the next attempts; once its
// window has passed, the background sweep deletes it.
func TestOldSignInFailuresAreSwept(t *testing.T) {
	db := testkit.MongoDB(t)
	srv := startApp(t, app.Deps{DB: db, FailureWindow: 300 * time.Millisecond, FailureSweepInterval: 50 * time.Millisecond})

	res, err := http.Post(srv.URL+"/api/users/signin", "application/json",
		strings.NewReader(`{"email":"nobody@example.com","password":"guess"}`))
	require.NoError(t, err)
	_ = res.Body.Close()
	require.Equal(t, http.StatusBadRequest, res.StatusCode)

	records := func() int64 {
		n, err := db.Collection("signinFailures").CountDocuments(context.Background(), bson.M{})
		require.NoError(t, err)
		return n
	}
	require.Positive(t, records(), "the failure was recorded")
	require.Eventually(t, func() bool { return records() == 0 }, 10*time.Second, 50*time.Millisecond,
		"the records outlived their window")
}

// startApp runs the auth app on d (with a session manager of its own) behind
// a test server until the test ends.
func startApp(t *testing.T, d app.Deps) *httptest.Server {
	t.Helper()
	sessions, err := session.NewManager(session.Config{Key: []byte("auth-app-test-key")})
	require.NoError(t, err)
	d.Sessions = sessions
	a, err := app.New(context.Background(), d)
	require.NoError(t, err)
	require.NoError(t, a.Start(context.Background()))
	t.Cleanup(func() { assert.NoError(t, a.Close()) })
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return srv
}
