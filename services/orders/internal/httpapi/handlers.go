package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/events"
	"github.com/ticketing/common/httpx"
	"github.com/ticketing/common/ids"
	"github.com/ticketing/services/orders/internal/order"
)

// Handlers holds what the routes call.
type Handlers struct {
	orders *order.Service
}

// NewHandlers wires the handlers to the order service.
func NewHandlers(orders *order.Service) *Handlers { return &Handlers{orders: orders} }

const msgTicketID = "TicketId must be provided"

type createRequest struct {
	TicketID string `json:"ticketId" binding:"required" msg:"TicketId must be provided"`
}

type ticketResponse struct {
	ID      string  `json:"id"`
	Title   string  `json:"title"`
	Price   float64 `json:"price"`
	Version int64   `json:"version"`
}

type orderResponse struct {
	ID        string         `json:"id"`
	UserID    string         `json:"userId"`
	Status    string         `json:"status"`
	ExpiresAt string         `json:"expiresAt"`
	Ticket    ticketResponse `json:"ticket"`
	Version   int64          `json:"version"`
}

func toResponse(o order.Order) orderResponse {
	return orderResponse{
		ID:        o.ID,
		UserID:    o.UserID,
		Status:    string(o.Status),
		ExpiresAt: o.ExpiresAt.UTC().Format(events.TimeLayout),
		Ticket:    ticketResponse{ID: o.Ticket.ID, Title: o.Ticket.Title, Price: o.Ticket.Price, Version: o.Ticket.Version},
		Version:   o.Version,
	}
}

// Create reserves a ticket for the caller.
func (h *Handlers) Create(c *gin.Context) {
	var req createRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	// binding's mongodb rule takes lowercase hex only; ids are accepted in
	// either case here as in the path.
	if !ids.IsObjectID(req.TicketID) {
		httpx.Fail(c, errs.Validation(errs.FieldError{Message: msgTicketID, Field: "ticketId"}))
		return
	}
	o, err := h.orders.Reserve(c, httpx.UserID(c), req.TicketID)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, toResponse(o))
}

// List answers with the caller's orders, oldest first.
func (h *Handlers) List(c *gin.Context) {
	orders, err := h.orders.ListForUser(c, httpx.UserID(c))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	out := make([]orderResponse, 0, len(orders))
	for _, o := range orders {
		out = append(out, toResponse(o))
	}
	c.JSON(http.StatusOK, out)
}

// Get answers with one of the caller's orders.
func (h *Handlers) Get(c *gin.Context) {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	o, err := h.orders.GetForUser(c, httpx.UserID(c), id)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toResponse(o))
}

// Cancel cancels one of the caller's orders.
func (h *Handlers) Cancel(c *gin.Context) {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	if err := h.orders.CancelForUser(c, httpx.UserID(c), id); err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
