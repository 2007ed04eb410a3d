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
// a 401. The webhook is Stripe's, which has no session: its signature
// stands for it. Without a signing secret there is no webhook route, and
// its path answers 404 like any unknown route.
func Routes(e *gin.Engine, h *Handlers) {
	g := e.Group("/api/payments", httpx.RequireAuth())
	g.POST("", h.Create)
	g.GET("/:orderId", h.Receipt)
	g.POST("/intents", h.CreateIntent)
	g.POST("/intents/:id/confirm", h.ConfirmIntent)
	if h.webhook != nil {
		e.POST("/api/payments/webhook", h.Webhook)
	}
}
