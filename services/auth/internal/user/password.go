package user

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/scrypt"
)

// The Node edition's parameters (crypto.scrypt defaults), so its users can sign in here.
const (
	scryptN      = 16384
	scryptR      = 8
	scryptP      = 1
	scryptKeyLen = 64
	saltBytes    = 8 // 16 hex characters
)

// HashPassword returns hex(scrypt(password, salt)) + "." + salt, where salt is
// 16 random hex characters and those characters themselves are the scrypt salt.
func HashPassword(password string) (string, error) {
	var raw [saltBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	salt := hex.EncodeToString(raw[:])
	key, err := derive(password, salt)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(key) + "." + salt, nil
}

// VerifyPassword reports whether password matches a stored hash, comparing in constant time.
func VerifyPassword(stored, password string) (bool, error) {
	hashHex, salt, ok := strings.Cut(stored, ".")
	if !ok || salt == "" {
		return false, errors.New("stored password hash has no salt")
	}
	want, err := hex.DecodeString(hashHex)
	if err != nil {
		return false, fmt.Errorf("stored password hash is not hex: %w", err)
	}
	got, err := derive(password, salt)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

func derive(password, salt string) ([]byte, error) {
	key, err := scrypt.Key([]byte(password), []byte(salt), scryptN, scryptR, scryptP, scryptKeyLen)
	if err != nil {
		return nil, fmt.Errorf("scrypt: %w", err)
	}
	return key, nil
}
