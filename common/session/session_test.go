package session_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/session"
)

const (
	key    = "test-key"
	userID = "64b7f0c2a1b2c3d4e5f60718"
)

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func newManager(t *testing.T, cfg session.Config) *session.Manager {
	t.Helper()
	if cfg.Key == nil {
		cfg.Key = []byte(key)
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return now }
	}
	m, err := session.NewManager(cfg)
	require.NoError(t, err)
	return m
}

// handToken signs a JWT without the jwt library, the way jsonwebtoken does,
// so the test does not check our code against itself.
func handToken(t *testing.T, header, claims map[string]any, signKey string) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	unsigned := enc(header) + "." + enc(claims)
	if signKey == "" {
		return unsigned + "."
	}
	mac := hmac.New(sha256.New, []byte(signKey))
	mac.Write([]byte(unsigned))
	return unsigned + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func nodeCookie(token string) string {
	return base64.StdEncoding.EncodeToString([]byte(`{"jwt":"` + token + `"}`))
}

func TestFromRequest(t *testing.T) {
	hs256 := map[string]any{"alg": "HS256", "typ": "JWT"}
	iat := now.Add(-time.Hour).Unix()
	good := map[string]any{"id": userID, "email": "a@b.co", "iat": iat}
	withExp := map[string]any{"id": userID, "email": "a@b.co", "iat": iat, "exp": now.Add(time.Hour).Unix()}
	expired := map[string]any{"id": userID, "email": "a@b.co", "iat": iat, "exp": now.Add(-time.Second).Unix()}
	oldNoExp := map[string]any{"id": userID, "email": "a@b.co", "iat": now.Add(-25 * time.Hour).Unix()}
	noUser := map[string]any{"email": "a@b.co", "iat": iat}

	tests := []struct {
		name   string
		cookie string
		want   bool
	}{
		{"node edition cookie without exp", "session=" + nodeCookie(handToken(t, hs256, good, key)), true},
		{"node edition cookie with exp", "session=" + nodeCookie(handToken(t, hs256, withExp, key)), true},
		{"legacy cookie name", "express:sess=" + nodeCookie(handToken(t, hs256, good, key)), true},
		{"among other cookies", "a=b; session=" + nodeCookie(handToken(t, hs256, good, key)) + "; c=d", true},
		{"signed with another key", "session=" + nodeCookie(handToken(t, hs256, good, "other")), false},
		{"alg none", "session=" + nodeCookie(handToken(t, map[string]any{"alg": "none"}, good, "")), false},
		{"HS512", "session=" + nodeCookie(handToken(t, map[string]any{"alg": "HS512"}, good, key)), false},
		{"expired", "session=" + nodeCookie(handToken(t, hs256, expired, key)), false},
		{"no exp and iat older than TTL", "session=" + nodeCookie(handToken(t, hs256, oldNoExp, key)), false},
		{"no user id", "session=" + nodeCookie(handToken(t, hs256, noUser, key)), false},
		{"malformed token", "session=" + nodeCookie("not.a.jwt"), false},
		{"garbage base64", "session=%%%%", false},
		{"base64 of non-JSON", "session=" + base64.StdEncoding.EncodeToString([]byte("hello")), false},
		{"empty", "session=", false},
		{"no cookie", "", false},
	}
	m := newManager(t, session.Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.cookie != "" {
				r.Header.Set("Cookie", tt.cookie)
			}
			c, ok := m.FromRequest(r)
			assert.Equal(t, tt.want, ok)
			if tt.want {
				require.NotNil(t, c)
				assert.Equal(t, userID, c.ID)
				assert.Equal(t, "a@b.co", c.Email)
			}
		})
	}
}

func TestIssueThenVerify(t *testing.T) {
	m := newManager(t, session.Config{TTL: time.Hour})
	token, err := m.Issue(userID, "x@y.z")
	require.NoError(t, err)
	c, err := m.Verify(token)
	require.NoError(t, err)
	assert.Equal(t, userID, c.ID)
	assert.Equal(t, now.Unix(), c.IssuedAt.Unix())
	assert.Equal(t, now.Add(time.Hour).Unix(), c.ExpiresAt.Unix())

	later := newManager(t, session.Config{TTL: time.Hour, Now: func() time.Time { return now.Add(time.Hour + time.Second) }})
	_, err = later.Verify(token)
	assert.Error(t, err, "a token past its exp must be refused")
}

func TestCookieAttributes(t *testing.T) {
	tests := []struct {
		name       string
		cfg        session.Config
		forwarded  string
		wantSecure bool
	}{
		{"plain http", session.Config{}, "", false},
		{"behind https ingress", session.Config{}, "https", true},
		{"forced secure", session.Config{CookieSecure: true}, "", true},
		{"custom name", session.Config{CookieName: "sid"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newManager(t, tt.cfg)
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			if tt.forwarded != "" {
				r.Header.Set("X-Forwarded-Proto", tt.forwarded)
			}
			w := httptest.NewRecorder()
			m.SetCookie(w, r, "tok")
			set := w.Header().Get("Set-Cookie")
			name := tt.cfg.CookieName
			if name == "" {
				name = "session"
			}
			assert.True(t, strings.HasPrefix(set, name+"="+session.EncodeCookieValue("tok")+";"), set)
			assert.Contains(t, set, "Path=/")
			assert.Contains(t, set, "HttpOnly")
			assert.Contains(t, set, "SameSite=Lax")
			assert.Equal(t, tt.wantSecure, strings.Contains(set, "Secure"), set)

			w = httptest.NewRecorder()
			m.ClearCookie(w, r)
			cleared := w.Header().Get("Set-Cookie")
			assert.True(t, strings.HasPrefix(cleared, name+"=;"), cleared)
			assert.Contains(t, cleared, "Max-Age=0")
			assert.Contains(t, cleared, "Expires=Thu, 01 Jan 1970 00:00:00 GMT")
			assert.Contains(t, cleared, "HttpOnly")
		})
	}
}

func TestCookieValueRoundTrip(t *testing.T) {
	v := session.EncodeCookieValue("a.b.c")
	raw, err := base64.StdEncoding.DecodeString(v)
	require.NoError(t, err)
	assert.JSONEq(t, `{"jwt":"a.b.c"}`, string(raw))
	got, err := session.DecodeCookieValue(v)
	require.NoError(t, err)
	assert.Equal(t, "a.b.c", got)
}

func FuzzDecodeCookieValue(f *testing.F) {
	f.Add(session.EncodeCookieValue("a.b.c"))
	f.Add("%%%")
	f.Add("")
	m, err := session.NewManager(session.Config{Key: []byte(key)})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, v string) {
		// Whatever the cookie holds, reading it must not panic, and garbage is never a session.
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Cookie", "session="+v)
		if c, ok := m.FromRequest(r); ok {
			require.NotEmpty(t, c.ID)
		}
	})
}
