// Package httpapi translates the auth routes of CONTRACT.md §2 to calls on
// the user service and back.
package httpapi

import (
	"github.com/gin-gonic/gin"
)

// Routes lists every route of the auth service.
func Routes(e *gin.Engine, h *Handlers) {
	g := e.Group("/api/users")
	g.GET("/currentuser", h.CurrentUser)
	g.POST("/signup", h.SignUp)
	g.POST("/signin", h.SignIn)
	g.POST("/signout", h.SignOut)
}
