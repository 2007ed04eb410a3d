package httpapi

import (
	"errors"
	"io"
	"net/http"
	"regexp"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/httpx"
	"github.com/ticketing/common/ids"
	"github.com/ticketing/services/payments/internal/payment"
)

// WebhookParser verifies a Stripe webhook delivery and reads its event
// (stripegw.Webhook).
type WebhookParser interface {
	Parse(payload []byte, signature string) (payment.StripeEvent, error)
}

type intentRequest struct {
	OrderID string `json:"orderId" msg:"OrderId must be provided"`
}

type intentResponse struct {
	ID           string `json:"id"`
	ClientSecret string `json:"clientSecret"`
}

type confirmResponse struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	PaymentID string `json:"paymentId,omitempty"`
}

// intentID is a Stripe PaymentIntent id as Stripe writes them. Anything
// else is no intent of ours, and is never put into a Stripe URL.
var intentID = regexp.MustCompile(`^pi_[A-Za-z0-9_]{1,250}$`)

// CreateIntent answers the caller's order's PaymentIntent, created the
// first time, for the Payment Element.
func (h *Handlers) CreateIntent(c *gin.Context) {
	var req intentRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	if !ids.IsObjectID(req.OrderID) {
		httpx.Fail(c, errs.Validation(errs.FieldError{Message: msgOrderID, Field: "orderId"}))
		return
	}
	in, err := h.payments.CreateIntent(c, httpx.UserID(c), req.OrderID)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, intentResponse{ID: in.ID, ClientSecret: in.ClientSecret})
}

// ConfirmIntent is the page's read-back once Stripe.js has confirmed: it
// answers the intent's status, and the payment's id once it succeeded.
func (h *Handlers) ConfirmIntent(c *gin.Context) {
	id := c.Param("id")
	if !intentID.MatchString(id) {
		httpx.Fail(c, errs.ErrNotFound)
		return
	}
	in, p, err := h.payments.ConfirmIntent(c, httpx.UserID(c), id)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	res := confirmResponse{ID: in.ID, Status: in.Status}
	if p != nil {
		res.PaymentID = p.ID
	}
	c.JSON(http.StatusOK, res)
}

// Webhook takes Stripe's deliveries. The signature is checked over the raw
// body, before anything in it is believed.
func (h *Handlers) Webhook(c *gin.Context) {
	payload, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			httpx.Fail(c, errs.ErrTooLarge)
			return
		}
		httpx.Fail(c, errs.Wrap(errs.BadRequest("Request body could not be read"), err))
		return
	}
	ev, err := h.webhook.Parse(payload, c.GetHeader("Stripe-Signature"))
	if err != nil {
		httpx.Logger(c).Warn("stripe webhook refused", "err", err)
		httpx.Fail(c, err)
		return
	}
	if err := h.payments.HandleStripeEvent(c, ev); err != nil {
		// Stripe delivers again after any answer but a 2xx.
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"received": true})
}
