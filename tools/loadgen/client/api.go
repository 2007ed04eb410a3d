package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Route names as they appear in reports.
const (
	EPSignUp       = "POST /api/users/signup"
	EPCreateTicket = "POST /api/tickets"
	EPListTickets  = "GET /api/tickets"
	EPGetTicket    = "GET /api/tickets/:id"
	EPUpdateTicket = "PUT /api/tickets/:id"
	EPCreateOrder  = "POST /api/orders"
	EPGetOrder     = "GET /api/orders/:id"
	EPCancelOrder  = "DELETE /api/orders/:id"
	EPPay          = "POST /api/payments"
)

// Order statuses (CONTRACT.md §1.3).
const (
	StatusCreated   = "created"
	StatusCancelled = "cancelled"
	StatusComplete  = "complete"
)

// Ticket statuses (CONTRACT.md §1.3).
const (
	TicketAvailable = "available"
	TicketReserved  = "reserved"
	TicketSold      = "sold"
)

// Contract messages the scenarios branch on.
const (
	MsgTicketReserved = "Ticket is already reserved"
	MsgAlreadyPaid    = "Order has already been paid"
	MsgOrderExpired   = "Order has expired"
	MsgOrderCancelled = "Cannot pay for an cancelled order"
	MsgEditReserved   = "Cannot edit a reserved ticket"
)

// Ticket is the contract's ticket.
type Ticket struct {
	ID      string  `json:"id"`
	Title   string  `json:"title"`
	Price   float64 `json:"price"`
	UserID  string  `json:"userId"`
	Version int64   `json:"version"`
	OrderID string  `json:"orderId,omitempty"`
	// Status is available, reserved or sold (CONTRACT.md §1.3).
	Status string `json:"status,omitempty"`
}

// Reserved reports whether an order holds the ticket (a hold running, or
// sold).
func (t Ticket) Reserved() bool {
	return t.OrderID != "" || t.Status == TicketReserved || t.Status == TicketSold
}

// Order is the contract's order.
type Order struct {
	ID        string    `json:"id"`
	UserID    string    `json:"userId"`
	Status    string    `json:"status"`
	ExpiresAt time.Time `json:"expiresAt"`
	Version   int64     `json:"version"`
	Ticket    struct {
		ID      string  `json:"id"`
		Title   string  `json:"title"`
		Price   float64 `json:"price"`
		Version int64   `json:"version"`
	} `json:"ticket"`
}

// User is a person with a session (or none, for an anonymous visitor).
type User struct {
	c      *Client
	ID     string
	Email  string
	cookie string
}

// Anonymous is a visitor without a session.
func (c *Client) Anonymous() *User { return &User{c: c} }

// SignUp creates a user and keeps the session cookie the answer sets.
func (c *Client) SignUp(ctx context.Context, email, password string) (*User, error) {
	res, err := c.Do(ctx, EPSignUp, http.MethodPost, c.urls.Auth+"/api/users/signup", "",
		map[string]string{"email": email, "password": password}, http.StatusCreated)
	if err != nil {
		return nil, err
	}
	u := &User{c: c, Email: email}
	var body struct {
		ID string `json:"id"`
	}
	if err := res.Decode(&body); err != nil {
		return nil, fmt.Errorf("%s: %w", EPSignUp, err)
	}
	u.ID = body.ID
	hdr := http.Header{"Set-Cookie": res.Header.Values("Set-Cookie")}
	for _, ck := range (&http.Response{Header: hdr}).Cookies() {
		if ck.Name == "session" && ck.Value != "" {
			u.cookie = ck.Name + "=" + ck.Value
		}
	}
	if u.cookie == "" {
		return nil, errors.New(EPSignUp + ": the answer set no session cookie")
	}
	return u, nil
}

// Cookie is the Cookie header the user sends.
func (u *User) Cookie() string { return u.cookie }

// CreateTicket lists a ticket for sale.
func (u *User) CreateTicket(ctx context.Context, title string, price float64) (Ticket, error) {
	var t Ticket
	res, err := u.c.Do(ctx, EPCreateTicket, http.MethodPost, u.c.urls.Tickets+"/api/tickets", u.cookie,
		map[string]any{"title": title, "price": price}, http.StatusCreated)
	if err == nil {
		err = res.Decode(&t)
	}
	return t, err
}

// UpdateTicket changes a ticket's title and price. expect adds statuses
// besides 200 that the caller handles (400 for a reserved ticket).
func (u *User) UpdateTicket(ctx context.Context, id, title string, price float64, expect ...int) (Ticket, Response, error) {
	var t Ticket
	res, err := u.c.Do(ctx, EPUpdateTicket, http.MethodPut, u.c.urls.Tickets+"/api/tickets/"+url.PathEscape(id), u.cookie,
		map[string]any{"title": title, "price": price}, append(expect, http.StatusOK)...)
	if err == nil && res.Status == http.StatusOK {
		err = res.Decode(&t)
	}
	return t, res, err
}

// ListTickets returns the first page of tickets on sale.
func (u *User) ListTickets(ctx context.Context, limit int) ([]Ticket, error) {
	path := "/api/tickets"
	if limit > 0 {
		path += fmt.Sprintf("?limit=%d", limit)
	}
	var ts []Ticket
	res, err := u.c.Do(ctx, EPListTickets, http.MethodGet, u.c.urls.Tickets+path, u.cookie, nil, http.StatusOK)
	if err == nil {
		err = res.Decode(&ts)
	}
	return ts, err
}

// GetTicket reads one ticket.
func (u *User) GetTicket(ctx context.Context, id string) (Ticket, error) {
	var t Ticket
	res, err := u.c.Do(ctx, EPGetTicket, http.MethodGet, u.c.urls.Tickets+"/api/tickets/"+url.PathEscape(id), u.cookie, nil, http.StatusOK)
	if err == nil {
		err = res.Decode(&t)
	}
	return t, err
}

// Reserve asks for an order on a ticket. Besides 201 the caller expects 404
// (orders has not heard of the ticket yet) and 400 (someone else holds it);
// the order is decoded only on 201.
func (u *User) Reserve(ctx context.Context, ticketID string) (Order, Response, error) {
	var o Order
	res, err := u.c.Do(ctx, EPCreateOrder, http.MethodPost, u.c.urls.Orders+"/api/orders", u.cookie,
		map[string]string{"ticketId": ticketID}, http.StatusCreated, http.StatusNotFound, http.StatusBadRequest)
	if err == nil && res.Status == http.StatusCreated {
		err = res.Decode(&o)
	}
	return o, res, err
}

// GetOrder reads one of the user's orders.
func (u *User) GetOrder(ctx context.Context, id string) (Order, error) {
	var o Order
	res, err := u.c.Do(ctx, EPGetOrder, http.MethodGet, u.c.urls.Orders+"/api/orders/"+url.PathEscape(id), u.cookie, nil, http.StatusOK)
	if err == nil {
		err = res.Decode(&o)
	}
	return o, err
}

// CancelOrder cancels one of the user's orders.
func (u *User) CancelOrder(ctx context.Context, id string) error {
	_, err := u.c.Do(ctx, EPCancelOrder, http.MethodDelete, u.c.urls.Orders+"/api/orders/"+url.PathEscape(id), u.cookie, nil, http.StatusNoContent)
	return err
}

// Pay charges the order with a Stripe test token. Besides 201 the caller
// expects 404 (payments has not heard of the order yet) and 400 (paid,
// cancelled or expired; Message says which).
func (u *User) Pay(ctx context.Context, orderID, token string) (Response, error) {
	return u.c.Do(ctx, EPPay, http.MethodPost, u.c.urls.Payments+"/api/payments", u.cookie,
		map[string]string{"token": token, "orderId": orderID}, http.StatusCreated, http.StatusNotFound, http.StatusBadRequest)
}
