package session

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultTTL is how long a session lasts unless SESSION_TTL says otherwise.
const DefaultTTL = 24 * time.Hour

// Config says how sessions are signed and sent.
type Config struct {
	Key          []byte        // JWT_KEY
	TTL          time.Duration // SESSION_TTL; 0 means DefaultTTL
	CookieName   string        // SESSION_COOKIE_NAME; "" means DefaultCookieName
	CookieSecure bool          // COOKIE_SECURE: Secure even when the request came over plain HTTP
	Now          func() time.Time
}

// Claims are the JWT claims: the Node edition's {id, email, iat} plus exp.
type Claims struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	jwt.RegisteredClaims
}

// Manager issues and checks sessions.
type Manager struct {
	cfg Config
}

// NewManager checks cfg and fills in defaults.
func NewManager(cfg Config) (*Manager, error) {
	if len(cfg.Key) == 0 {
		return nil, errors.New("session: JWT key is empty")
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.TTL < 0 {
		return nil, fmt.Errorf("session: TTL %v is negative", cfg.TTL)
	}
	if cfg.CookieName == "" {
		cfg.CookieName = DefaultCookieName
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Manager{cfg: cfg}, nil
}

// Issue signs a token for a user.
func (m *Manager) Issue(userID, email string) (string, error) {
	now := m.cfg.Now().Truncate(time.Second)
	claims := Claims{
		ID:    userID,
		Email: email,
		RegisteredClaims: jwt.RegisteredClaims{
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(m.cfg.TTL)),
		},
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(m.cfg.Key)
	if err != nil {
		return "", fmt.Errorf("sign session token: %w", err)
	}
	return token, nil
}

// Verify accepts only HS256 tokens signed with our key, not expired, naming a user.
//
// The Node edition signs {id, email, iat} without exp. So that its sessions
// keep working without living forever, a token without exp expires TTL after
// its iat, and one with neither is refused.
func (m *Manager) Verify(token string) (*Claims, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return m.cfg.Key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithTimeFunc(m.cfg.Now),
	)
	if err != nil {
		return nil, fmt.Errorf("verify session token: %w", err)
	}
	if c.ID == "" {
		return nil, errors.New("verify session token: no user id")
	}
	if c.ExpiresAt == nil {
		if c.IssuedAt == nil {
			return nil, errors.New("verify session token: neither exp nor iat")
		}
		if !m.cfg.Now().Before(c.IssuedAt.Add(m.cfg.TTL)) {
			return nil, errors.New("verify session token: token without exp is older than the session TTL")
		}
	}
	return &c, nil
}
