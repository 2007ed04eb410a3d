package httpx

import (
	"github.com/gin-gonic/gin"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/session"
)

const claimsKey = "httpx.currentUser"

func readSession(m *session.Manager) gin.HandlerFunc {
	return func(c *gin.Context) {
		if claims, ok := m.FromRequest(c.Request); ok {
			c.Set(claimsKey, claims)
		}
		c.Next()
	}
}

// CurrentUser returns the signed-in user's claims, if any.
func CurrentUser(c *gin.Context) (*session.Claims, bool) {
	v, ok := c.Get(claimsKey)
	if !ok {
		return nil, false
	}
	claims, ok := v.(*session.Claims)
	return claims, ok
}

// RequireAuth refuses requests without a valid session with 401. It runs
// before any body is read, so an anonymous bad body is a 401, not a 400.
func RequireAuth() gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, ok := CurrentUser(c); !ok {
			Fail(c, errs.ErrNotAuthorized)
			return
		}
		c.Next()
	}
}

// UserID is the signed-in user's id; call it only behind RequireAuth.
func UserID(c *gin.Context) string {
	claims, ok := CurrentUser(c)
	if !ok {
		return ""
	}
	return claims.ID
}
