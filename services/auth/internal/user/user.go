// Package user holds the auth service's domain: users, password hashing,
// sign-up and sign-in rules.
package user

import (
	"github.com/ticketing/common/errs"
)

// User is a registered account. PasswordHash never leaves this service.
type User struct {
	ID           string
	Email        string
	PasswordHash string
}

// Errors the routes answer with (CONTRACT.md §2, auth).
var (
	ErrEmailInUse         = errs.BadRequest("Email in use")
	ErrInvalidCredentials = errs.BadRequest("Invalid credentials")
	ErrTooManyAttempts    = errs.New(errs.KindTooManyRequests, "Too many attempts, try again later")
	// ErrNoSuchUser is the store's answer for an unknown email; callers turn
	// it into ErrInvalidCredentials so nobody learns which emails exist.
	ErrNoSuchUser = errs.ErrNotFound
)
