// Package httpapi translates the tickets routes of CONTRACT.md §2 to calls
// on the ticket service and back.
package httpapi

import (
	"github.com/gin-gonic/gin"

	"github.com/ticketing/common/httpx"
)

// Routes lists every route of the tickets service.
func Routes(e *gin.Engine, h *Handlers) {
	g := e.Group("/api/tickets")
	g.POST("", httpx.RequireAuth(), h.Create)
	g.GET("", h.List)
	g.GET("/mine", httpx.RequireAuth(), h.Mine)
	g.GET("/:id", h.Get)
	g.PUT("/:id", httpx.RequireAuth(), h.Edit)
	g.DELETE("/:id", httpx.RequireAuth(), h.Withdraw)
}
