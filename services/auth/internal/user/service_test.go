package user_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/services/auth/internal/user"
)

// memStore is a fake for the rules; the real store has its own tests over FerretDB.
type memStore struct {
	mu    sync.Mutex
	users map[string]user.User
}

func (m *memStore) Insert(_ context.Context, email, hash string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.users[email]; ok {
		return "", user.ErrEmailInUse
	}
	id := "64b7f0c2a1b2c3d4e5f6071" + string(rune('0'+len(m.users)))
	m.users[email] = user.User{ID: id, Email: email, PasswordHash: hash}
	return id, nil
}

func (m *memStore) FindByEmail(_ context.Context, email string) (user.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[email]
	if !ok {
		return user.User{}, user.ErrNoSuchUser
	}
	return u, nil
}

func newService(t *testing.T, perEmail, perIP int) *user.Service {
	t.Helper()
	svc, err := user.NewService(&memStore{users: map[string]user.User{}},
		user.NewFailureLimiter(user.NewMemoryFailures(), perEmail, time.Hour, nil), user.NewFailureLimiter(user.NewMemoryFailures(), perIP, time.Hour, nil))
	require.NoError(t, err)
	return svc
}

func TestSignInRules(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, 3, 100)
	u, err := svc.SignUp(ctx, "a@b.co", "pass1")
	require.NoError(t, err)

	got, err := svc.SignIn(ctx, "a@b.co", "pass1", "1.1.1.1")
	require.NoError(t, err)
	assert.Equal(t, u.ID, got.ID)

	_, err = svc.SignIn(ctx, "nobody@b.co", "pass1", "1.1.1.1")
	assert.ErrorIs(t, err, user.ErrInvalidCredentials, "unknown email")
	_, err = svc.SignIn(ctx, "a@b.co", "wrong", "1.1.1.1")
	assert.ErrorIs(t, err, user.ErrInvalidCredentials, "wrong password")

	_, err = svc.SignUp(ctx, "a@b.co", "other")
	assert.ErrorIs(t, err, user.ErrEmailInUse)
}

func TestSignInIsLimitedPerEmail(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, 3, 100)
	_, err := svc.SignUp(ctx, "a@b.co", "pass1")
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		_, err := svc.SignIn(ctx, "a@b.co", "wrong", "1.1.1.1")
		require.ErrorIs(t, err, user.ErrInvalidCredentials)
	}
	_, err = svc.SignIn(ctx, "a@b.co", "pass1", "2.2.2.2")
	assert.ErrorIs(t, err, user.ErrTooManyAttempts, "even the right password waits once the email is locked")
}

func TestSignInIsLimitedPerAddress(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, 100, 3)
	for _, email := range []string{"x@b.co", "y@b.co", "z@b.co"} {
		_, err := svc.SignIn(ctx, email, "wrong", "9.9.9.9")
		require.ErrorIs(t, err, user.ErrInvalidCredentials)
	}
	_, err := svc.SignIn(ctx, "w@b.co", "wrong", "9.9.9.9")
	assert.ErrorIs(t, err, user.ErrTooManyAttempts)
	_, err = svc.SignIn(ctx, "w@b.co", "wrong", "8.8.8.8")
	assert.ErrorIs(t, err, user.ErrInvalidCredentials, "another address is not limited")
}
