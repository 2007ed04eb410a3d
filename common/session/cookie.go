// Package session implements the session cookie and JWT of CONTRACT.md §1.2,
// byte-compatible with the Node edition's cookie-session + jsonwebtoken.
package session

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// LegacyCookieName is what older Node builds named the cookie; accepted on read only.
const LegacyCookieName = "express:sess"

// DefaultCookieName is the cookie we write unless configured otherwise.
const DefaultCookieName = "session"

type cookiePayload struct {
	JWT string `json:"jwt"`
}

// EncodeCookieValue turns a token into the cookie value: standard base64 of {"jwt":"..."}.
func EncodeCookieValue(token string) string {
	b, _ := json.Marshal(cookiePayload{JWT: token}) // a struct of one string cannot fail to marshal
	return base64.StdEncoding.EncodeToString(b)
}

// DecodeCookieValue extracts the token from a cookie value.
func DecodeCookieValue(v string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		// Some clients strip the padding; accept that rather than sign the user out.
		raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(v, "="))
		if err != nil {
			return "", fmt.Errorf("session cookie is not base64: %w", err)
		}
	}
	var p cookiePayload
	if err := json.Unmarshal(raw, &p); err != nil {
		return "", fmt.Errorf("session cookie is not JSON: %w", err)
	}
	if p.JWT == "" {
		return "", errors.New("session cookie has no jwt")
	}
	return p.JWT, nil
}

// cookieValues returns the values of every cookie called one of names, read
// from the raw header: net/http refuses names such as "express:sess" that are
// not HTTP tokens, so r.Cookie never finds the legacy one.
func cookieValues(h http.Header, names ...string) []string {
	var out []string
	for _, line := range h.Values("Cookie") {
		for _, part := range strings.Split(line, ";") {
			name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok {
				continue
			}
			for _, n := range names {
				if name == n {
					out = append(out, strings.Trim(val, `"`))
				}
			}
		}
	}
	return out
}

// isHTTPS reports whether the browser reached us over TLS, directly or via the ingress.
func isHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

func (m *Manager) cookie(r *http.Request, value string) *http.Cookie {
	return &http.Cookie{
		Name:     m.cfg.CookieName,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		Secure:   m.cfg.CookieSecure || isHTTPS(r),
	}
}

// SetCookie starts a session for token.
func (m *Manager) SetCookie(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, m.cookie(r, EncodeCookieValue(token)))
}

// ClearCookie ends the session: the same cookie, empty and expired.
func (m *Manager) ClearCookie(w http.ResponseWriter, r *http.Request) {
	c := m.cookie(r, "")
	c.MaxAge = -1 // net/http writes Max-Age=0 for a negative value
	c.Expires = time.Unix(0, 0)
	http.SetCookie(w, c)
}

// FromRequest returns the claims of a valid session on r. A missing, garbled,
// forged or expired session is simply "not signed in".
func (m *Manager) FromRequest(r *http.Request) (*Claims, bool) {
	for _, v := range cookieValues(r.Header, m.cfg.CookieName, LegacyCookieName) {
		token, err := DecodeCookieValue(v)
		if err != nil {
			continue
		}
		if c, err := m.Verify(token); err == nil {
			return c, true
		}
	}
	return nil, false
}
