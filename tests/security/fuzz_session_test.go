package security

import (
	"strings"
	"testing"
	"time"

	"github.com/ticketing/common/session"
)

// FuzzVerifyToken feeds the JWT check arbitrary tokens (the cookie's
// base64 + JSON layer has its own target, common/session's
// FuzzDecodeCookieValue). A token is refused or, if accepted, names a user
// and verifies the same way again. Never a panic.
func FuzzVerifyToken(f *testing.F) {
	m, err := session.NewManager(session.Config{Key: []byte(fuzzKey)})
	if err != nil {
		f.Fatal(err)
	}
	good, err := m.Issue("64b7f0c2a1b2c3d4e5f60718", "fuzz@example.com")
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(good, ".")
	for _, s := range []string{
		good, "", ".", "..", "a.b.c", parts[0] + "." + parts[1] + ".",
		"eyJhbGciOiJub25lIn0." + parts[1] + ".",
		parts[0] + ".e30." + parts[2], good + "x", strings.Repeat("A", 5000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := m.Verify(token)
		if err != nil {
			return
		}
		if c.ID == "" {
			t.Fatalf("accepted a token without a user: %q", token)
		}
		if c.ExpiresAt != nil && !c.ExpiresAt.After(time.Now()) {
			t.Fatalf("accepted an expired token: %q", token)
		}
		again, err := m.Verify(token)
		if err != nil || again.ID != c.ID {
			t.Fatalf("verification is not stable: %v", err)
		}
	})
}
