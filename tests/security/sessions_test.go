package security

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"hash"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// forge signs a JWT by hand, the way jsonwebtoken does, so nothing here
// trusts the code under test. An empty key leaves the signature empty.
func forge(t *testing.T, header, claims map[string]any, key string, h func() hash.Hash) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	unsigned := enc(header) + "." + enc(claims)
	if key == "" {
		return unsigned + "."
	}
	mac := hmac.New(h, []byte(key))
	mac.Write([]byte(unsigned))
	return unsigned + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// cookieFor wraps a token the contract's way: base64 of {"jwt":"..."}.
func cookieFor(name, token string) string {
	return name + "=" + base64.StdEncoding.EncodeToString([]byte(`{"jwt":"`+token+`"}`))
}

// testForgedSessions sends every protected route a session that must not
// count: each is "signed out" (401 on a protected route, currentUser null),
// never a 5xx. A correctly signed session is the control.
func (s *suite) testForgedSessions(t *testing.T) {
	victim := s.api.signUp(t, "victim")
	tk := s.api.createTicket(t, victim, "forged sessions", 12)

	now := time.Now()
	hs256 := map[string]any{"alg": "HS256", "typ": "JWT"}
	claims := func(extra map[string]any) map[string]any {
		c := map[string]any{"id": victim.id, "email": victim.email, "iat": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix()}
		for k, v := range extra {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	good := forge(t, hs256, claims(nil), s.jwtKey, sha256.New)
	parts := strings.Split(good, ".")

	forged := map[string]string{
		"signed with another key":   cookieFor("session", forge(t, hs256, claims(nil), "not-the-key", sha256.New)),
		"alg none":                  cookieFor("session", forge(t, map[string]any{"alg": "none", "typ": "JWT"}, claims(nil), "", nil)),
		"alg None":                  cookieFor("session", forge(t, map[string]any{"alg": "None"}, claims(nil), "", nil)),
		"HS512 with the right key":  cookieFor("session", forge(t, map[string]any{"alg": "HS512", "typ": "JWT"}, claims(nil), s.jwtKey, sha512.New)),
		"expired":                   cookieFor("session", forge(t, hs256, claims(map[string]any{"exp": now.Add(-time.Second).Unix()}), s.jwtKey, sha256.New)),
		"no exp, iat years ago":     cookieFor("session", forge(t, hs256, claims(map[string]any{"exp": nil, "iat": now.Add(-3 * 365 * 24 * time.Hour).Unix()}), s.jwtKey, sha256.New)),
		"no id":                     cookieFor("session", forge(t, hs256, claims(map[string]any{"id": nil}), s.jwtKey, sha256.New)),
		"id of the wrong type":      cookieFor("session", forge(t, hs256, claims(map[string]any{"id": 42}), s.jwtKey, sha256.New)),
		"claims tampered after sig": cookieFor("session", parts[0]+"."+base64.RawURLEncoding.EncodeToString([]byte(`{"id":"`+unknownID+`","email":"x@y.z","iat":1,"exp":9999999999}`))+"."+parts[2]),
		"signature stripped":        cookieFor("session", parts[0]+"."+parts[1]+"."),
		"malformed token":           cookieFor("session", "not.a.jwt"),
		"two segments":              cookieFor("session", parts[0]+"."+parts[1]),
		"empty token":               cookieFor("session", ""),
		"garbage base64":            "session=%%%not-base64%%%",
		"base64 of non-JSON":        "session=" + base64.StdEncoding.EncodeToString([]byte("hello")),
		"base64 of a JSON array":    "session=" + base64.StdEncoding.EncodeToString([]byte(`["jwt"]`)),
		"jwt of the wrong type":     "session=" + base64.StdEncoding.EncodeToString([]byte(`{"jwt":42}`)),
		"empty cookie":              "session=",
		"raw JWT without wrapping":  "session=" + good,
		"very long cookie":          "session=" + strings.Repeat("A", 6000),
		"legacy name, forged":       cookieFor("express:sess", forge(t, hs256, claims(nil), "not-the-key", sha256.New)),
		"quoted garbage":            `session="\"{}\""`,
		"unicode":                   "session=" + base64.StdEncoding.EncodeToString([]byte(`{"jwt":"ünï.cödé.🎫"}`)),
	}
	protected := []struct{ method, path string }{
		{http.MethodPost, "/api/tickets"},
		{http.MethodPut, "/api/tickets/" + tk.ID},
		{http.MethodPost, "/api/orders"},
		{http.MethodGet, "/api/orders"},
		{http.MethodGet, "/api/orders/" + unknownID},
		{http.MethodDelete, "/api/orders/" + unknownID},
		{http.MethodPost, "/api/payments"},
	}
	body := map[string]any{"title": "hijacked", "price": 1, "ticketId": tk.ID, "token": "tok_visa", "orderId": unknownID}

	for name, cookie := range forged {
		t.Run(name, func(t *testing.T) {
			res := s.api.do(t, cookie, http.MethodGet, "/api/users/currentuser", nil)
			require.Equal(t, http.StatusOK, res.Status, "currentuser never fails for a bad cookie")
			assert.JSONEq(t, `{"currentUser":null}`, string(res.Body))
			for _, p := range protected {
				res := s.api.do(t, cookie, p.method, p.path, body)
				if assert.Equal(t, http.StatusUnauthorized, res.Status, "%s %s: %s", p.method, p.path, res.Body) {
					assert.Equal(t, msgNotAuthorized, res.message(t))
				}
			}
		})
	}

	t.Run("control: the right key works, also under the legacy name", func(t *testing.T) {
		for _, cookie := range []string{cookieFor("session", good), cookieFor("express:sess", good)} {
			res := s.api.do(t, cookie, http.MethodGet, "/api/users/currentuser", nil)
			require.Equal(t, http.StatusOK, res.Status)
			assert.Contains(t, string(res.Body), victim.id)
			res = s.api.do(t, cookie, http.MethodGet, "/api/orders", nil)
			assert.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		}
	})

	// Nothing was changed by the forged requests.
	res := s.api.do(t, "", http.MethodGet, "/api/tickets/"+tk.ID, nil)
	var got ticket
	require.NoError(t, json.Unmarshal(res.Body, &got))
	assert.Equal(t, "forged sessions", got.Title)
	assert.Equal(t, int64(0), got.Version)
}
