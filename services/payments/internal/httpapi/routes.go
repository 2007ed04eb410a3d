// Package httpapi is the payments service's HTTP interface (CONTRACT.md §2,
// payments): handlers translate requests to calls on the payment service
// and its answers and errors back to the contract's JSON.
package httpapi

import (
	"github.com/gin-gonic/gin"

	"github.com/ticketing/common/httpx"
)

// Routes registers every route of the payments service. The session is
// checked before anything else, so an anonymous request with a bad body is
// a 401.
func Routes(e *gin.Engine, h *Handlers) {
	g := e.Group("/api/payments", httpx.RequireAuth())
	g.POST("", h.Create)
}
