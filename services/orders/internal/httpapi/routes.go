// Package httpapi is the orders service's HTTP interface (CONTRACT.md §2,
// orders): handlers translate requests to calls on the order service and
// its answers and errors back to the contract's JSON.
package httpapi

import (
	"github.com/gin-gonic/gin"

	"github.com/ticketing/common/httpx"
)

// Routes registers every route of the orders service. All of them need a
// session, checked before anything else, so an anonymous request with a bad
// body or id is a 401.
func Routes(e *gin.Engine, h *Handlers) {
	g := e.Group("/api/orders", httpx.RequireAuth())
	g.POST("", h.Create)
	g.GET("", h.List)
	g.GET("/:id", h.Get)
	g.DELETE("/:id", h.Cancel)
}
