package security

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
)

// setCookie is the Set-Cookie header of the session cookie, split into its
// attributes (lower-cased names).
func setCookie(t *testing.T, res response) (value string, attrs map[string]string) {
	t.Helper()
	for _, line := range res.Header.Values("Set-Cookie") {
		parts := strings.Split(line, ";")
		name, val, _ := strings.Cut(strings.TrimSpace(parts[0]), "=")
		if name != "session" {
			continue
		}
		attrs = map[string]string{}
		for _, p := range parts[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			attrs[strings.ToLower(k)] = v
		}
		return val, attrs
	}
	require.Fail(t, "no session cookie", "Set-Cookie: %q", res.Header.Values("Set-Cookie"))
	return "", nil
}

// testCookieAttributes checks the session cookie of sign-up, sign-in and
// sign-out, over plain HTTP and behind an HTTPS ingress.
func (s *suite) testCookieAttributes(t *testing.T) {
	email, password := uniqueEmail("cookie"), "cookie-pw"
	body := []byte(`{"email":"` + email + `","password":"` + password + `"}`)
	for _, proto := range []string{"", "https", "http"} {
		t.Run("X-Forwarded-Proto="+proto, func(t *testing.T) {
			h := http.Header{}
			if proto != "" {
				h.Set("X-Forwarded-Proto", proto)
			}
			wantSecure := proto == "https"
			check := func(what string, res response, cleared bool) {
				val, attrs := setCookie(t, res)
				assert.Contains(t, attrs, "httponly", what)
				assert.Equal(t, "Lax", attrs["samesite"], what)
				assert.Equal(t, "/", attrs["path"], what)
				_, secure := attrs["secure"]
				assert.Equal(t, wantSecure, secure, "%s: Secure exactly when the request came over HTTPS", what)
				if cleared {
					assert.Empty(t, val, what)
					assert.Equal(t, "0", attrs["max-age"], what)
					assert.Contains(t, attrs["expires"], "1970", what)
				} else {
					assert.NotEmpty(t, val, what)
					_, persistent := attrs["max-age"]
					assert.False(t, persistent, "%s: a session cookie, gone when the browser closes", what)
				}
			}
			path := "/api/users/signin"
			want := http.StatusOK
			if proto == "" {
				path, want = "/api/users/signup", http.StatusCreated
			}
			res := s.api.raw(t, http.MethodPost, path, body, h)
			require.Equal(t, want, res.Status, "%s", res.Body)
			check(path, res, false)

			res = s.api.raw(t, http.MethodPost, "/api/users/signout", nil, h)
			require.Equal(t, http.StatusOK, res.Status)
			assert.JSONEq(t, `{}`, string(res.Body))
			check("signout", res, true)
		})
	}
}

// testNoPasswordHashes signs a user up and in, reads the stored hash from
// the auth database, and looks for it (and the password) in every answer
// the suite has had so far and in everything the fleet logged.
func (s *suite) testNoPasswordHashes(t *testing.T) {
	email, password := uniqueEmail("secret"), "Pw-7f3a9c-secret"
	res := s.api.do(t, "", http.MethodPost, "/api/users/signup", map[string]string{"email": email, "password": password})
	require.Equal(t, http.StatusCreated, res.Status)
	assert.NotContains(t, string(res.Body), "password")
	res = s.api.do(t, "", http.MethodPost, "/api/users/signin", map[string]string{"email": email, "password": password})
	require.Equal(t, http.StatusOK, res.Status)
	cookie := sessionCookie(t, res)
	res = s.api.do(t, cookie, http.MethodGet, "/api/users/currentuser", nil)
	require.Equal(t, http.StatusOK, res.Status)
	assert.NotContains(t, string(res.Body), "password")
	res = s.api.do(t, "", http.MethodPost, "/api/users/signin", map[string]string{"email": email, "password": password + "x"})
	require.Equal(t, http.StatusBadRequest, res.Status)
	assert.Equal(t, "Invalid credentials", res.message(t))
	res = s.api.do(t, "", http.MethodPost, "/api/users/signup", map[string]string{"email": email, "password": password})
	require.Equal(t, http.StatusBadRequest, res.Status)
	assert.Equal(t, "Email in use", res.message(t))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var stored struct {
		Password string `bson:"password"`
	}
	require.NoError(t, s.authDB(t).Collection("users").FindOne(ctx, bson.M{"email": email}).Decode(&stored))
	hashHex, salt, ok := strings.Cut(stored.Password, ".")
	require.True(t, ok, "the stored password is hex(scrypt).salt")
	require.Len(t, hashHex, 128)
	require.Len(t, salt, 16)

	secrets := map[string]string{"the stored hash": hashHex, "the password": password}
	for what, secret := range secrets {
		assert.Zero(t, s.api.rec.contains(secret), "%s appeared in an answer", what)
	}
	// The fleet's log is written as it goes; the answers above are there
	// once their access-log lines are.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Contains(c, string(s.fleetLog(t)), "/api/users/signin")
	}, 10*time.Second, 100*time.Millisecond)
	log := s.fleetLog(t)
	for what, secret := range secrets {
		if i := bytes.Index(log, []byte(secret)); i >= 0 {
			start := max(0, bytes.LastIndexByte(log[:i], '\n')+1)
			t.Errorf("%s appears in the fleet's log: %.300s", what, log[start:])
		}
	}
	assert.NotContains(t, string(log), `"password":`, "no request body with a password is logged")
}

// testBruteForce guesses one account's password until refused, then
// guesses across accounts until the address is refused. It runs last: the
// address it locks out is every other test's too.
func (s *suite) testBruteForce(t *testing.T) {
	const tooMany = "Too many attempts, try again later"
	victim := s.api.signUp(t, "brute")
	guess := func(email, password string) response {
		return s.api.do(t, "", http.MethodPost, "/api/users/signin", map[string]string{"email": email, "password": password})
	}

	t.Run("per e-mail", func(t *testing.T) {
		refused := 0
		for i := range 12 {
			res := guess(victim.email, "wrong-"+string(rune('a'+i)))
			switch res.Status {
			case http.StatusBadRequest:
				assert.Equal(t, "Invalid credentials", res.message(t))
				assert.Zero(t, refused, "once refused, stays refused")
			case http.StatusTooManyRequests:
				assert.Equal(t, tooMany, res.message(t))
				refused++
			default:
				t.Fatalf("guess %d: %d %s", i, res.Status, res.Body)
			}
		}
		assert.GreaterOrEqual(t, refused, 5, "guessing one e-mail's password is refused after a few tries")
		res := guess(victim.email, victim.password)
		assert.Equal(t, http.StatusTooManyRequests, res.Status, "even the right password is refused while locked: a guesser learns nothing")
	})

	t.Run("per address", func(t *testing.T) {
		// Each guess names a new e-mail, so only the per-address limit can stop it.
		var last response
		for i := range 200 {
			last = guess(uniqueEmail("spray"), "spray-pw")
			if last.Status == http.StatusTooManyRequests {
				t.Logf("address refused after %d more guesses", i+1)
				break
			}
			require.Equal(t, http.StatusBadRequest, last.Status, "%s", last.Body)
		}
		require.Equal(t, http.StatusTooManyRequests, last.Status, "spraying guesses over many e-mails from one address is refused")
		assert.Equal(t, tooMany, last.message(t))
		// Sign-up is not a guess and stays open.
		s.api.signUp(t, "after-spray")
	})
}
