package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	sessions, err := session.NewManager(session.Config{Key: []byte("auth-app-test-key")})
	require.NoError(t, err)
	a, err := app.New(context.Background(), app.Deps{DB: testkit.MongoDB(t), Sessions: sessions})
	require.NoError(t, err)
	require.NoError(t, a.Start(context.Background()))
	t.Cleanup(func() { assert.NoError(t, a.Close()) })

	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	res, err := http.Post(srv.URL+"/api/users/signup", "application/json",
		strings.NewReader(`{"email":"app@example.com","password":"secret"}`))
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Equal(t, http.StatusCreated, res.StatusCode)
	assert.NotEmpty(t, res.Cookies(), "a session cookie is set")
}
