package user_test

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/scrypt"

	"github.com/ticketing/services/auth/internal/user"
)

// nodeHash builds a hash the way the Node edition does:
// hex(scrypt(pw, saltHex, 16384, 8, 1, 64)) + "." + saltHex.
func nodeHash(t *testing.T, password, saltHex string) string {
	t.Helper()
	key, err := scrypt.Key([]byte(password), []byte(saltHex), 16384, 8, 1, 64)
	require.NoError(t, err)
	return hex.EncodeToString(key) + "." + saltHex
}

func TestVerifyPassword(t *testing.T) {
	node := nodeHash(t, "secret", "a1b2c3d4e5f60718")
	ours, err := user.HashPassword("secret")
	require.NoError(t, err)

	tests := []struct {
		name     string
		stored   string
		password string
		want     bool
		wantErr  bool
	}{
		{"node edition hash, right password", node, "secret", true, false},
		{"node edition hash, wrong password", node, "Secret", false, false},
		{"our hash, right password", ours, "secret", true, false},
		{"our hash, wrong password", ours, "secret ", false, false},
		{"no salt", "abcd", "secret", false, true},
		{"not hex", "zz.a1b2c3d4e5f60718", "secret", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := user.VerifyPassword(tt.stored, tt.password)
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, ok)
		})
	}
}

func TestHashPasswordFormat(t *testing.T) {
	a, err := user.HashPassword("secret")
	require.NoError(t, err)
	b, err := user.HashPassword("secret")
	require.NoError(t, err)
	assert.NotEqual(t, a, b, "each hash has its own salt")

	hashHex, salt, ok := strings.Cut(a, ".")
	require.True(t, ok)
	assert.Len(t, hashHex, 128, "64-byte key in hex")
	assert.Len(t, salt, 16, "16 hex characters of salt")
	_, err = hex.DecodeString(salt)
	assert.NoError(t, err)
	// The salt's text, not its bytes, is the scrypt salt.
	assert.Equal(t, nodeHash(t, "secret", salt), a)
}
