package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/httpx"
	"github.com/ticketing/common/ids"
	"github.com/ticketing/services/payments/internal/payment"
)

// Handlers holds what the routes call.
type Handlers struct {
	payments *payment.Service
	webhook  WebhookParser
}

// NewHandlers wires the handlers to the payment service. webhook verifies
// Stripe's deliveries; nil leaves the webhook route out.
func NewHandlers(payments *payment.Service, webhook WebhookParser) *Handlers {
	return &Handlers{payments: payments, webhook: webhook}
}

const (
	msgToken   = "Token is required"
	msgOrderID = "OrderId must be provided"
)

// createRequest's rules are checked by hand: a field of the wrong JSON type
// must not stop the other field from being read and checked.
type createRequest struct {
	Token   string `json:"token"`
	OrderID string `json:"orderId"`
}

type createResponse struct {
	ID string `json:"id"`
}

// Create charges the caller's order.
func (h *Handlers) Create(c *gin.Context) {
	var req createRequest
	failed := map[string]bool{}
	if err := httpx.BindJSON(c, &req); err != nil {
		var e *errs.Error
		if !errors.As(err, &e) || e.Kind != errs.KindValidation {
			httpx.Fail(c, err)
			return
		}
		for _, f := range e.Fields {
			failed[f.Field] = true
		}
	}
	token := strings.TrimSpace(req.Token)
	failed["token"] = failed["token"] || token == ""
	// Ids are accepted in either case, as in the other services.
	failed["orderId"] = failed["orderId"] || !ids.IsObjectID(req.OrderID)
	var fields []errs.FieldError
	if failed["token"] {
		fields = append(fields, errs.FieldError{Message: msgToken, Field: "token"})
	}
	if failed["orderId"] {
		fields = append(fields, errs.FieldError{Message: msgOrderID, Field: "orderId"})
	}
	if len(fields) > 0 {
		httpx.Fail(c, errs.Validation(fields...))
		return
	}
	p, err := h.payments.Pay(c, httpx.UserID(c), req.OrderID, token)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, createResponse{ID: p.ID})
}
