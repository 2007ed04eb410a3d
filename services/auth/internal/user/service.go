package user

import (
	"context"
	"errors"
	"fmt"
)

// Store is what the service needs from the database.
type Store interface {
	// Insert stores a new user and returns its id; ErrEmailInUse if the email is taken.
	Insert(ctx context.Context, email, passwordHash string) (string, error)
	// FindByEmail returns ErrNoSuchUser for an unknown email.
	FindByEmail(ctx context.Context, email string) (User, error)
}

// Service applies the sign-up and sign-in rules.
type Service struct {
	store    Store
	perEmail *FailureLimiter
	perIP    *FailureLimiter
	// dummyHash is verified against when the email is unknown, so a wrong
	// email costs as much time as a wrong password and reveals nothing.
	dummyHash string
}

// NewService builds the service; the limiters may be shared with nothing else.
func NewService(store Store, perEmail, perIP *FailureLimiter) (*Service, error) {
	dummy, err := HashPassword("not a real password")
	if err != nil {
		return nil, err
	}
	return &Service{store: store, perEmail: perEmail, perIP: perIP, dummyHash: dummy}, nil
}

// SignUp registers a user. email and password arrive trimmed and validated.
func (s *Service) SignUp(ctx context.Context, email, password string) (User, error) {
	hash, err := HashPassword(password)
	if err != nil {
		return User{}, err
	}
	// No look-up first: the unique index decides, so two racing sign-ups
	// with one email cannot both succeed.
	id, err := s.store.Insert(ctx, email, hash)
	if err != nil {
		return User{}, fmt.Errorf("sign up: %w", err)
	}
	return User{ID: id, Email: email, PasswordHash: hash}, nil
}

// SignIn checks credentials, refusing with ErrTooManyAttempts once the email
// or the client address has failed too often.
func (s *Service) SignIn(ctx context.Context, email, password, clientIP string) (User, error) {
	emailKey, ipKey := "email:"+email, "ip:"+clientIP
	for _, check := range []struct {
		limiter *FailureLimiter
		key     string
	}{{s.perEmail, emailKey}, {s.perIP, ipKey}} {
		blocked, err := check.limiter.Blocked(ctx, check.key)
		if err != nil {
			return User{}, fmt.Errorf("sign in: %w", err)
		}
		if blocked {
			return User{}, ErrTooManyAttempts
		}
	}
	u, err := s.store.FindByEmail(ctx, email)
	hash := u.PasswordHash
	switch {
	case errors.Is(err, ErrNoSuchUser):
		hash = s.dummyHash
	case err != nil:
		return User{}, fmt.Errorf("sign in: %w", err)
	}
	ok, verr := VerifyPassword(hash, password)
	if verr != nil {
		return User{}, fmt.Errorf("sign in: %w", verr)
	}
	if err != nil || !ok {
		if err := errors.Join(s.perEmail.Fail(ctx, emailKey), s.perIP.Fail(ctx, ipKey)); err != nil {
			return User{}, fmt.Errorf("sign in: %w", err)
		}
		return User{}, ErrInvalidCredentials
	}
	if err := s.perEmail.Reset(ctx, emailKey); err != nil {
		return User{}, fmt.Errorf("sign in: %w", err)
	}
	return u, nil
}
