package security

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	msgNotAuthorized = "Not authorized"
	msgNotFound      = "Not Found"
	unknownID        = "0123456789abcdef01234567"
)

// call is one cell of the matrix: who asks what, and what the contract
// says they get. msg, if set, is the first error message expected.
type call struct {
	who    string // "anonymous", "owner", "other", ...
	method string
	path   string
	body   any
	status int
	msg    string
}

func (s *suite) expect(t *testing.T, cookies map[string]string, calls ...call) {
	t.Helper()
	for _, c := range calls {
		name := fmt.Sprintf("%s %s as %s", c.method, c.path, c.who)
		cookie, ok := cookies[c.who]
		require.True(t, ok || c.who == "anonymous", "unknown caller %q", c.who)
		res := s.api.do(t, cookie, c.method, c.path, c.body)
		if !assert.Equal(t, c.status, res.Status, "%s: %s", name, res.Body) {
			continue
		}
		if c.msg != "" {
			assert.Equal(t, c.msg, res.message(t), name)
		}
	}
}

// testAuthorizationMatrix asks every route as an anonymous visitor, as the
// owner of the resource and as another signed-in user.
func (s *suite) testAuthorizationMatrix(t *testing.T) {
	seller, buyer, stranger := s.api.signUp(t, "seller"), s.api.signUp(t, "buyer"), s.api.signUp(t, "stranger")
	cookies := map[string]string{"seller": seller.cookie, "buyer": buyer.cookie, "stranger": stranger.cookie}

	onSale := s.api.createTicket(t, seller, "matrix: on sale", 10)
	held := s.api.createTicket(t, seller, "matrix: held", 20)
	toPay := s.api.createTicket(t, seller, "matrix: to pay", 30)
	heldOrder := s.api.reserve(t, buyer, held.ID)
	payOrder := s.api.reserve(t, buyer, toPay.ID)
	s.api.awaitTicketReserved(t, held.ID)
	s.api.awaitPayable(t, stranger, payOrder.ID)

	t.Run("auth", func(t *testing.T) {
		res := s.api.do(t, "", http.MethodGet, "/api/users/currentuser", nil)
		require.Equal(t, http.StatusOK, res.Status)
		assert.JSONEq(t, `{"currentUser":null}`, string(res.Body))
		res = s.api.do(t, seller.cookie, http.MethodGet, "/api/users/currentuser", nil)
		require.Equal(t, http.StatusOK, res.Status)
		var cu struct {
			CurrentUser struct {
				ID    string `json:"id"`
				Email string `json:"email"`
			} `json:"currentUser"`
		}
		require.NoError(t, json.Unmarshal(res.Body, &cu))
		assert.Equal(t, seller.id, cu.CurrentUser.ID)
		assert.Equal(t, seller.email, cu.CurrentUser.Email)
		s.expect(t, cookies,
			call{"anonymous", http.MethodPost, "/api/users/signout", nil, http.StatusOK, ""},
			call{"stranger", http.MethodPost, "/api/users/signout", nil, http.StatusOK, ""},
		)
	})

	t.Run("tickets", func(t *testing.T) {
		s.expect(t, cookies,
			call{"anonymous", http.MethodGet, "/api/tickets", nil, http.StatusOK, ""},
			call{"seller", http.MethodGet, "/api/tickets", nil, http.StatusOK, ""},
			call{"buyer", http.MethodGet, "/api/tickets", nil, http.StatusOK, ""},
			call{"anonymous", http.MethodGet, "/api/tickets/" + held.ID, nil, http.StatusOK, ""},
			call{"buyer", http.MethodGet, "/api/tickets/" + onSale.ID, nil, http.StatusOK, ""},
			call{"anonymous", http.MethodGet, "/api/tickets/" + unknownID, nil, http.StatusNotFound, msgNotFound},

			call{"anonymous", http.MethodPost, "/api/tickets", map[string]any{"title": "x", "price": 1}, http.StatusUnauthorized, msgNotAuthorized},
			// Authentication comes before validation.
			call{"anonymous", http.MethodPost, "/api/tickets", map[string]any{}, http.StatusUnauthorized, msgNotAuthorized},
			call{"seller", http.MethodPost, "/api/tickets", map[string]any{"title": "x", "price": 1}, http.StatusCreated, ""},
			call{"buyer", http.MethodPost, "/api/tickets", map[string]any{"title": "y", "price": 2}, http.StatusCreated, ""},

			call{"anonymous", http.MethodPut, "/api/tickets/" + onSale.ID, map[string]any{"title": "z", "price": 3}, http.StatusUnauthorized, msgNotAuthorized},
			call{"anonymous", http.MethodPut, "/api/tickets/" + onSale.ID, map[string]any{"price": -1}, http.StatusUnauthorized, msgNotAuthorized},
			call{"buyer", http.MethodPut, "/api/tickets/" + onSale.ID, map[string]any{"title": "z", "price": 3}, http.StatusUnauthorized, msgNotAuthorized},
			call{"stranger", http.MethodPut, "/api/tickets/" + onSale.ID, map[string]any{"title": "z", "price": 3}, http.StatusUnauthorized, msgNotAuthorized},
			call{"seller", http.MethodPut, "/api/tickets/" + unknownID, map[string]any{"title": "z", "price": 3}, http.StatusNotFound, msgNotFound},
			// The contract's order: 404, then reserved, then not the owner.
			call{"seller", http.MethodPut, "/api/tickets/" + held.ID, map[string]any{"title": "z", "price": 3}, http.StatusBadRequest, "Cannot edit a reserved ticket"},
			call{"stranger", http.MethodPut, "/api/tickets/" + held.ID, map[string]any{"title": "z", "price": 3}, http.StatusBadRequest, "Cannot edit a reserved ticket"},
			call{"seller", http.MethodPut, "/api/tickets/" + onSale.ID, map[string]any{"title": "z", "price": 3}, http.StatusOK, ""},
		)
		// The other users' failed edits changed nothing; the owner's did.
		res := s.api.do(t, "", http.MethodGet, "/api/tickets/"+onSale.ID, nil)
		var got ticket
		require.NoError(t, json.Unmarshal(res.Body, &got))
		assert.Equal(t, int64(1), got.Version)
		assert.Equal(t, "z", got.Title)
		assert.Equal(t, seller.id, got.UserID)
	})

	t.Run("orders", func(t *testing.T) {
		s.expect(t, cookies,
			call{"anonymous", http.MethodPost, "/api/orders", map[string]string{"ticketId": onSale.ID}, http.StatusUnauthorized, msgNotAuthorized},
			call{"anonymous", http.MethodPost, "/api/orders", map[string]string{"ticketId": "nope"}, http.StatusUnauthorized, msgNotAuthorized},
			call{"stranger", http.MethodPost, "/api/orders", map[string]string{"ticketId": held.ID}, http.StatusBadRequest, "Ticket is already reserved"},
			call{"stranger", http.MethodPost, "/api/orders", map[string]string{"ticketId": unknownID}, http.StatusNotFound, msgNotFound},

			call{"anonymous", http.MethodGet, "/api/orders", nil, http.StatusUnauthorized, msgNotAuthorized},
			call{"anonymous", http.MethodGet, "/api/orders/" + heldOrder.ID, nil, http.StatusUnauthorized, msgNotAuthorized},
			call{"seller", http.MethodGet, "/api/orders/" + heldOrder.ID, nil, http.StatusUnauthorized, msgNotAuthorized},
			call{"stranger", http.MethodGet, "/api/orders/" + heldOrder.ID, nil, http.StatusUnauthorized, msgNotAuthorized},
			call{"buyer", http.MethodGet, "/api/orders/" + heldOrder.ID, nil, http.StatusOK, ""},
			call{"buyer", http.MethodGet, "/api/orders/" + unknownID, nil, http.StatusNotFound, msgNotFound},
		)
		// Each sees only their own orders.
		list := func(u user) []order {
			res := s.api.do(t, u.cookie, http.MethodGet, "/api/orders", nil)
			require.Equal(t, http.StatusOK, res.Status)
			var os []order
			require.NoError(t, json.Unmarshal(res.Body, &os))
			return os
		}
		mine := list(buyer)
		require.Len(t, mine, 2)
		for _, o := range mine {
			assert.Equal(t, buyer.id, o.UserID)
		}
		assert.Empty(t, list(seller), "the seller bought nothing")
		assert.Empty(t, list(stranger))
	})

	t.Run("payments", func(t *testing.T) {
		pay := map[string]string{"token": "tok_visa", "orderId": payOrder.ID}
		s.expect(t, cookies,
			call{"anonymous", http.MethodPost, "/api/payments", pay, http.StatusUnauthorized, msgNotAuthorized},
			call{"anonymous", http.MethodPost, "/api/payments", map[string]string{}, http.StatusUnauthorized, msgNotAuthorized},
			call{"seller", http.MethodPost, "/api/payments", pay, http.StatusUnauthorized, msgNotAuthorized},
			call{"stranger", http.MethodPost, "/api/payments", pay, http.StatusUnauthorized, msgNotAuthorized},
			call{"buyer", http.MethodPost, "/api/payments", map[string]string{"token": "tok_visa", "orderId": unknownID}, http.StatusNotFound, msgNotFound},
			call{"buyer", http.MethodPost, "/api/payments", pay, http.StatusCreated, ""},
			call{"buyer", http.MethodPost, "/api/payments", pay, http.StatusBadRequest, "Order has already been paid"},
		)
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			res := s.api.do(c, buyer.cookie, http.MethodGet, "/api/orders/"+payOrder.ID, nil)
			var o order
			require.NoError(c, json.Unmarshal(res.Body, &o))
			assert.Equal(c, "complete", o.Status)
		}, 20*time.Second, 50*time.Millisecond)
	})

	t.Run("cancel", func(t *testing.T) {
		s.expect(t, cookies,
			call{"anonymous", http.MethodDelete, "/api/orders/" + heldOrder.ID, nil, http.StatusUnauthorized, msgNotAuthorized},
			call{"seller", http.MethodDelete, "/api/orders/" + heldOrder.ID, nil, http.StatusUnauthorized, msgNotAuthorized},
			call{"stranger", http.MethodDelete, "/api/orders/" + heldOrder.ID, nil, http.StatusUnauthorized, msgNotAuthorized},
			call{"buyer", http.MethodDelete, "/api/orders/" + unknownID, nil, http.StatusNotFound, msgNotFound},
			call{"buyer", http.MethodDelete, "/api/orders/" + heldOrder.ID, nil, http.StatusNoContent, ""},
			call{"buyer", http.MethodDelete, "/api/orders/" + heldOrder.ID, nil, http.StatusNoContent, ""},
			call{"buyer", http.MethodDelete, "/api/orders/" + payOrder.ID, nil, http.StatusBadRequest, "Cannot cancel a completed order"},
		)
		res := s.api.do(t, buyer.cookie, http.MethodGet, "/api/orders/"+heldOrder.ID, nil)
		var o order
		require.NoError(t, json.Unmarshal(res.Body, &o))
		assert.Equal(t, "cancelled", o.Status)
	})
}
