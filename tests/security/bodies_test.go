package security

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Messages of the contract (CONTRACT.md §1.1, §2) and of common/httpx for
// the cases the contract leaves to us ("a message that says which").
const (
	msgMalformedJSON = "Request body is not valid JSON"
	msgNotObject     = "Request body must be a JSON object"
	msgTooLarge      = "Request body is larger than 1 MiB"
	msgMalformedID   = "Id in the path must be 24 hex characters"
)

// bodyCase is one request body and what the contract answers: a status (0:
// anything but a 5xx), and for a 400 the exact message and the fields at
// fault, where set.
type bodyCase struct {
	name   string
	body   string
	status int
	msg    string
	fields []string
}

// testBodies sends every route that reads a body or an id the malformed,
// oversized, mistyped and exotic input a careless or hostile client would.
// The answer is always the contract's 4xx, never a 5xx.
func (s *suite) testBodies(t *testing.T) {
	seller, buyer := s.api.signUp(t, "bodies-seller"), s.api.signUp(t, "bodies-buyer")
	tk := s.api.createTicket(t, seller, "bodies", 10)
	held := s.api.createTicket(t, seller, "bodies, held", 11)
	o := s.api.reserve(t, buyer, held.ID)
	s.api.awaitPayable(t, seller, o.ID)

	huge := `{"title":"` + strings.Repeat("x", 1<<20) + `","price":10}`
	malformed := []bodyCase{
		{"truncated JSON", `{"title":`, 400, msgMalformedJSON, nil},
		{"not JSON at all", `title=x&price=1`, 400, msgMalformedJSON, nil},
		{"trailing garbage", `{"title":"x","price":1} extra`, 400, "", nil},
		{"a JSON array", `[{"title":"x"}]`, 400, msgNotObject, nil},
		{"a JSON string", `"hello"`, 400, msgNotObject, nil},
		{"null", `null`, 400, msgNotObject, nil},
		// encoding/json reads invalid UTF-8 as U+FFFD; whatever the route
		// then decides, it must not be a 5xx.
		{"invalid UTF-8", "{\"title\":\"\xff\xfe\",\"price\":1,\"email\":\"\xff@b.co\"}", 0, "", nil},
		{"over 1 MiB", huge, http.StatusRequestEntityTooLarge, msgTooLarge, nil},
		{"deeply nested", strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000), 400, "", nil},
	}
	type route struct {
		method, path string
		cookie       string
		cases        []bodyCase
	}
	long := strings.Repeat("é", 201)
	routes := []route{
		{http.MethodPost, "/api/users/signup", "", []bodyCase{
			{"empty body", ``, 400, "", []string{"email", "password"}},
			{"email as number", `{"email":42,"password":"secret"}`, 400, "Email must be valid", []string{"email"}},
			{"password as array", `{"email":"a@b.co","password":["secret"]}`, 400, "", []string{"password"}},
			{"password as object", `{"email":"a@b.co","password":{"$gt":""}}`, 400, "", []string{"password"}},
			{"email as query operator", `{"email":{"$ne":null},"password":"secret"}`, 400, "", []string{"email"}},
			{"password too short after trim", `{"email":"a@b.co","password":"  abc  "}`, 400, "", []string{"password"}},
			{"password of 21", `{"email":"a@b.co","password":"` + strings.Repeat("p", 21) + `"}`, 400, "", []string{"password"}},
			{"email of 10 000 characters", `{"email":"` + strings.Repeat("a", 10000) + `@b.co","password":"secret"}`, 400, "", []string{"email"}},
			{"email with a NUL", `{"email":"a\u0000@b.co","password":"secret"}`, 400, "", []string{"email"}},
		}},
		{http.MethodPost, "/api/users/signin", "", []bodyCase{
			{"empty body", ``, 400, "", []string{"email", "password"}},
			{"email as object", `{"email":{"$gt":""},"password":"x"}`, 400, "", []string{"email"}},
			{"blank password", `{"email":"a@b.co","password":"   "}`, 400, "You must supply a password", []string{"password"}},
		}},
		{http.MethodPost, "/api/tickets", seller.cookie, []bodyCase{
			{"empty body", ``, 400, "", []string{"title", "price"}},
			{"price as object", `{"title":"x","price":{"amount":10}}`, 400, "Price must be a number", []string{"price"}},
			{"price as array", `{"title":"x","price":[10]}`, 400, "", []string{"price"}},
			{"price as boolean", `{"title":"x","price":true}`, 400, "", []string{"price"}},
			{"price null", `{"title":"x","price":null}`, 400, "", []string{"price"}},
			{"price zero", `{"title":"x","price":0}`, 400, "", []string{"price"}},
			{"price negative", `{"title":"x","price":-10}`, 400, "", []string{"price"}},
			{"price NaN text", `{"title":"x","price":"NaN"}`, 400, "", []string{"price"}},
			{"price Infinity text", `{"title":"x","price":"Infinity"}`, 400, "", []string{"price"}},
			{"price huge exponent", `{"title":"x","price":1e999999}`, 400, "", []string{"price"}},
			{"price over a million", `{"title":"x","price":1000000.01}`, 400, "", []string{"price"}},
			{"price with 3 decimals", `{"title":"x","price":"1.001"}`, 400, "", []string{"price"}},
			{"price of 10 000 digits", `{"title":"x","price":"` + strings.Repeat("9", 10000) + `"}`, 400, "", []string{"price"}},
			{"title as number", `{"title":42,"price":10}`, 400, "Title is required", []string{"title"}},
			{"title as object", `{"title":{"$ne":""},"price":10}`, 400, "", []string{"title"}},
			{"title blank", `{"title":"   ","price":10}`, 400, "", []string{"title"}},
			{"title of 201 characters", `{"title":"` + long + `","price":10}`, 400, "", []string{"title"}},
			{"title of 100 000 characters", `{"title":"` + strings.Repeat("t", 100000) + `","price":10}`, 400, "", []string{"title"}},
			{"both wrong", `{"title":7,"price":"abc"}`, 400, "", []string{"title", "price"}},
			{"unicode title", `{"title":"演唱会 🎫 Ünïcödé \u202e","price":"20.50"}`, 201, "", nil},
			{"title of 200 characters", `{"title":"` + strings.Repeat("é", 200) + `","price":1000000}`, 201, "", nil},
			{"unknown fields ignored", `{"title":"x","price":1,"userId":"` + unknownID + `","version":99,"orderId":"` + unknownID + `"}`, 201, "", nil},
		}},
		{http.MethodPut, "/api/tickets/" + tk.ID, seller.cookie, []bodyCase{
			{"empty body", ``, 400, "", []string{"title", "price"}},
			{"price as object", `{"title":"x","price":{}}`, 400, "Price must be a number", []string{"price"}},
			{"title as number", `{"title":1,"price":10}`, 400, "Title is required", []string{"title"}},
			{"version and owner smuggled in", `{"title":"x","price":1,"userId":"` + unknownID + `","version":99}`, 200, "", nil},
		}},
		{http.MethodPost, "/api/orders", buyer.cookie, []bodyCase{
			{"empty body", ``, 400, "TicketId must be provided", []string{"ticketId"}},
			{"ticketId as number", `{"ticketId":12345}`, 400, "", []string{"ticketId"}},
			{"ticketId as object", `{"ticketId":{"$ne":null}}`, 400, "", []string{"ticketId"}},
			{"ticketId not hex", `{"ticketId":"zzzzzzzzzzzzzzzzzzzzzzzz"}`, 400, "", []string{"ticketId"}},
			{"ticketId too short", `{"ticketId":"abc"}`, 400, "", []string{"ticketId"}},
			{"ticketId unicode", `{"ticketId":"ééééééééééééééééééééééé"}`, 400, "", []string{"ticketId"}},
			{"ticketId of 100 000 characters", `{"ticketId":"` + strings.Repeat("a", 100000) + `"}`, 400, "", []string{"ticketId"}},
		}},
		{http.MethodPost, "/api/payments", buyer.cookie, []bodyCase{
			{"empty body", ``, 400, "", []string{"token", "orderId"}},
			{"token as object", `{"token":{"id":"tok_visa"},"orderId":"` + o.ID + `"}`, 400, "", []string{"token"}},
			{"blank token", `{"token":"   ","orderId":"` + o.ID + `"}`, 400, "Token is required", []string{"token"}},
			{"orderId not hex", `{"token":"tok_visa","orderId":"not-an-id"}`, 400, "OrderId must be provided", []string{"orderId"}},
			{"orderId as number", `{"token":"tok_visa","orderId":1}`, 400, "", []string{"orderId"}},
		}},
	}

	for _, r := range routes {
		for _, c := range append(malformed, r.cases...) {
			t.Run(r.method+" "+r.path+": "+c.name, func(t *testing.T) {
				h := http.Header{}
				if r.cookie != "" {
					h.Set("Cookie", r.cookie)
				}
				res := s.api.raw(t, r.method, r.path, []byte(c.body), h)
				if c.status == 0 {
					return // raw already failed a 5xx
				}
				require.Equal(t, c.status, res.Status, "%.300s", res.Body)
				if c.status >= 400 {
					if c.msg != "" {
						assert.Equal(t, c.msg, res.message(t))
					}
					if c.fields != nil {
						// Every field at fault is named. (A field of the wrong
						// JSON type can make the decoder stop before the next
						// field, which is then reported missing too: an extra
						// entry, not a wrong one.)
						assert.Subset(t, res.fields(t), c.fields)
					}
				}
			})
		}
	}

	t.Run("unicode title round-trips", func(t *testing.T) {
		title := "演唱会 🎫 Ünïcödé \u202e <script>"
		created := s.api.createTicket(t, seller, "  "+title+"  ", 20.5)
		assert.Equal(t, title, created.Title, "trimmed, otherwise as sent")
		res := s.api.do(t, "", http.MethodGet, "/api/tickets/"+created.ID, nil)
		var got ticket
		require.NoError(t, json.Unmarshal(res.Body, &got))
		assert.Equal(t, title, got.Title)
		assert.Equal(t, 20.5, got.Price)
		assert.Equal(t, "application/json; charset=utf-8", res.Header.Get("Content-Type"))
		assert.False(t, bytes.Contains(res.Body, []byte("<script>")), "JSON escapes < so a page cannot be tricked into HTML: %s", res.Body)
	})

	t.Run("smuggled fields changed nothing", func(t *testing.T) {
		res := s.api.do(t, "", http.MethodGet, "/api/tickets/"+tk.ID, nil)
		var got ticket
		require.NoError(t, json.Unmarshal(res.Body, &got))
		assert.Equal(t, seller.id, got.UserID)
		assert.Less(t, got.Version, int64(10), "the version is the server's count of edits, not the 99 sent")
		assert.Empty(t, got.OrderID)
	})

	t.Run("invalid ids in paths and queries", func(t *testing.T) {
		bad := []string{"xyz", "123", "zzzzzzzzzzzzzzzzzzzzzzzz", unknownID + "0", url.PathEscape("ééééééééééééééééééééééé"),
			url.PathEscape(`{"$ne":null}`), url.PathEscape("' OR 1=1 --"), strings.Repeat("a", 5000)}
		for _, id := range bad {
			for _, c := range []struct{ cookie, method, path string }{
				{"", http.MethodGet, "/api/tickets/" + id},
				{seller.cookie, http.MethodPut, "/api/tickets/" + id},
				{buyer.cookie, http.MethodGet, "/api/orders/" + id},
				{buyer.cookie, http.MethodDelete, "/api/orders/" + id},
			} {
				var body any
				if c.method == http.MethodPut {
					body = map[string]any{"title": "x", "price": 1}
				}
				res := s.api.do(t, c.cookie, c.method, c.path, body)
				if assert.Equal(t, http.StatusBadRequest, res.Status, "%s %.60s: %s", c.method, c.path, res.Body) {
					assert.Equal(t, msgMalformedID, res.message(t))
				}
			}
		}
		for _, q := range []string{"limit=abc", "limit=0", "limit=501", "limit=-1", "limit=1e3", "before=xyz", "before=" + strings.Repeat("f", 25), "limit=99999999999999999999999"} {
			res := s.api.do(t, "", http.MethodGet, "/api/tickets?"+q, nil)
			assert.Equal(t, http.StatusBadRequest, res.Status, "%s: %s", q, res.Body)
		}
		res := s.api.do(t, "", http.MethodGet, "/api/tickets?limit=500&before="+unknownID, nil)
		assert.Equal(t, http.StatusOK, res.Status)
	})

	t.Run("wrong methods and routes are 404", func(t *testing.T) {
		for _, c := range []struct{ method, path string }{
			{http.MethodPost, "/api/tickets/" + tk.ID},
			{http.MethodPatch, "/api/tickets/" + tk.ID},
			{http.MethodPut, "/api/orders/" + o.ID},
			{http.MethodGet, "/api/payments"},
			{http.MethodGet, "/api/users/signup"},
			{http.MethodGet, "/api/tickets/" + tk.ID + "/extra"},
		} {
			res := s.api.do(t, seller.cookie, c.method, c.path, nil)
			if assert.Equal(t, http.StatusNotFound, res.Status, "%s %s", c.method, c.path) {
				assert.Equal(t, msgNotFound, res.message(t))
			}
		}
	})
}
