package testkit

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/session"
)

// Cookie returns a Cookie header value ("session=...") that signs in userID
// with a session signed by key, as the auth service would issue it.
func Cookie(t testing.TB, key, userID, email string) string {
	t.Helper()
	m, err := session.NewManager(session.Config{Key: []byte(key)})
	require.NoError(t, err)
	token, err := m.Issue(userID, email)
	require.NoError(t, err)
	return session.DefaultCookieName + "=" + session.EncodeCookieValue(token)
}
