package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/common/events"
	"github.com/ticketing/common/httpx"
	"github.com/ticketing/services/tickets/internal/ticket"
)

// Handlers holds what the routes call.
type Handlers struct {
	tickets *ticket.Service
}

// NewHandlers wires the handlers to the ticket service.
func NewHandlers(tickets *ticket.Service) *Handlers {
	return &Handlers{tickets: tickets}
}

// ticketRequest keeps both fields as sent: the price may be a number or a
// string, and the domain reports every bad field at once, which binding
// typed fields would not (the decoder stops at the first wrong type).
type ticketRequest struct {
	Title json.RawMessage `json:"title"`
	Price json.RawMessage `json:"price"`
}

// ticketResponse is the contract's Ticket; orderId only while reserved or
// sold.
type ticketResponse struct {
	ID      string  `json:"id"`
	Title   string  `json:"title"`
	Price   float64 `json:"price"`
	UserID  string  `json:"userId"`
	Version int64   `json:"version"`
	OrderID string  `json:"orderId,omitempty"`
	Status  string  `json:"status"`
}

// listingResponse is a Ticket as its seller sees it (GET /api/tickets/mine):
// when the hold on it ends, or when it was sold.
type listingResponse struct {
	ticketResponse
	ExpiresAt string `json:"expiresAt,omitempty"`
	SoldAt    string `json:"soldAt,omitempty"`
}

func toListing(l ticket.Listing) listingResponse {
	out := listingResponse{ticketResponse: toResponse(l.Ticket)}
	if !l.HoldEnds.IsZero() {
		out.ExpiresAt = l.HoldEnds.UTC().Format(events.TimeLayout)
	}
	if at := l.SoldAt(); !at.IsZero() {
		out.SoldAt = at.UTC().Format(events.TimeLayout)
	}
	return out
}

func toResponse(t ticket.Ticket) ticketResponse {
	return ticketResponse{ID: t.ID, Title: t.Title, Price: t.Price, UserID: t.UserID, Version: t.Version, OrderID: t.OrderID,
		Status: string(t.Status())}
}

func (h *Handlers) Create(c *gin.Context) {
	var req ticketRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	d, err := ticket.ParseNew(req.Title, req.Price)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	t, err := h.tickets.Create(c, httpx.UserID(c), d)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, toResponse(t))
}

func (h *Handlers) List(c *gin.Context) {
	p, err := ticket.ParsePage(c.Query("limit"), c.Query("before"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	ts, err := h.tickets.List(c, p)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	out := make([]ticketResponse, len(ts))
	for i, t := range ts {
		out[i] = toResponse(t)
	}
	c.JSON(http.StatusOK, out)
}

// Mine is the signed-in seller's tickets in every state, paged like List.
func (h *Handlers) Mine(c *gin.Context) {
	p, err := ticket.ParsePage(c.Query("limit"), c.Query("before"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	ls, err := h.tickets.Mine(c, httpx.UserID(c), p)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	out := make([]listingResponse, len(ls))
	for i, l := range ls {
		out[i] = toListing(l)
	}
	c.JSON(http.StatusOK, out)
}

func (h *Handlers) Get(c *gin.Context) {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	t, err := h.tickets.Get(c, id)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toResponse(t))
}

// Edit checks, in the contract's order: session (RequireAuth), the id and
// body, then existence, reservation and ownership (the service).
func (h *Handlers) Edit(c *gin.Context) {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	var req ticketRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	d, err := ticket.ParseEdit(req.Title, req.Price)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	t, err := h.tickets.Edit(c, id, httpx.UserID(c), d)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toResponse(t))
}

// Withdraw checks, as Edit does: session (RequireAuth), the id, then
// existence, reservation or sale, and ownership (the service).
func (h *Handlers) Withdraw(c *gin.Context) {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	if err := h.tickets.Withdraw(c, id, httpx.UserID(c)); err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
