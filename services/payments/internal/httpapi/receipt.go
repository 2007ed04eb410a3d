package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/common/httpx"
)

// receiptResponse is what a receipt needs beyond the order: Stripe's
// reference, the amount charged and whether it was refunded since.
type receiptResponse struct {
	ID       string  `json:"id"`
	OrderID  string  `json:"orderId"`
	StripeID string  `json:"stripeId"`
	Amount   float64 `json:"amount"`
	Refunded bool    `json:"refunded,omitempty"`
}

// Receipt answers the caller's order's payment, once charged.
func (h *Handlers) Receipt(c *gin.Context) {
	orderID, err := httpx.ParamID(c, "orderId")
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	p, err := h.payments.Receipt(c, httpx.UserID(c), orderID)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, receiptResponse{
		ID: p.ID, OrderID: p.OrderID, StripeID: p.StripeID,
		Amount: float64(p.Amount) / 100, Refunded: p.Refund != nil,
	})
}
