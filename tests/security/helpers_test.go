// Package security checks the fleet against hostile or careless callers:
// who may call what (every route × anonymous, owner, other user), forged and
// garbled sessions, malformed and oversized bodies, cookie attributes, that
// no password hash ever leaves the auth service, and that guessing passwords
// is slowed. It runs against a fleet started by localfleet, over HTTP only,
// plus fuzz targets that run the services' handlers in-process.
package security

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// response is one answer: status, headers and raw body.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// errorBody is the contract's error shape (CONTRACT.md §1.1).
type errorBody struct {
	Errors []struct {
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"errors"`
}

// contractError decodes the body as the contract's error shape and fails
// when it is not one (every non-2xx answer must be).
func (r response) contractError(t require.TestingT) errorBody {
	var e errorBody
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	require.NoError(t, dec.Decode(&e), "a %d answer is not the contract's JSON error body: %q", r.Status, r.Body)
	require.NotEmpty(t, e.Errors, "a %d answer has no errors: %q", r.Status, r.Body)
	for _, x := range e.Errors {
		assert.NotEmpty(t, x.Message, "an error without a message: %q", r.Body)
	}
	return e
}

func (r response) message(t require.TestingT) string {
	return r.contractError(t).Errors[0].Message
}

func (r response) fields(t require.TestingT) []string {
	var out []string
	for _, e := range r.contractError(t).Errors {
		out = append(out, e.Field)
	}
	return out
}

// recorder keeps every answer's headers and body, so the suite can check at
// the end that no secret ever appeared in one.
type recorder struct {
	mu   sync.Mutex
	seen [][]byte
}

func (r *recorder) add(res *http.Response, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b bytes.Buffer
	_ = res.Header.Write(&b)
	b.Write(body)
	r.seen = append(r.seen, b.Bytes())
}

func (r *recorder) contains(s string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, b := range r.seen {
		if bytes.Contains(b, []byte(s)) {
			n++
		}
	}
	return n
}

// api sends requests to the fleet.
type api struct {
	urls map[string]string // service -> base URL
	hc   *http.Client
	rec  *recorder
}

func newAPI(urls map[string]string) *api {
	return &api{urls: urls, hc: &http.Client{Timeout: 30 * time.Second}, rec: &recorder{}}
}

// base picks the service that owns a path, as the ingress does.
func (a *api) base(path string) string {
	for prefix, svc := range map[string]string{"/api/users": "auth", "/api/tickets": "tickets", "/api/orders": "orders", "/api/payments": "payments"} {
		if strings.HasPrefix(path, prefix) {
			return a.urls[svc]
		}
	}
	panic("no service serves " + path)
}

// raw sends body as is (nil for none) with the given headers.
func (a *api) raw(t require.TestingT, method, path string, body []byte, header http.Header) response {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, a.base(path)+path, rd)
	require.NoError(t, err)
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := a.hc.Do(req)
	require.NoError(t, err, "%s %s", method, path)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	a.rec.add(res, data)
	r := response{Status: res.StatusCode, Header: res.Header, Body: data}
	// Never the server's fault, whatever was sent.
	assert.Less(t, r.Status, 500, "%s %s answered %d: %s", method, path, r.Status, data)
	if r.Status >= 400 {
		r.contractError(t)
	}
	return r
}

// do sends body as JSON (nil for none) with the cookie, if any.
func (a *api) do(t require.TestingT, cookie, method, path string, body any) response {
	var b []byte
	if body != nil {
		var err error
		b, err = json.Marshal(body)
		require.NoError(t, err)
	}
	h := http.Header{}
	if cookie != "" {
		h.Set("Cookie", cookie)
	}
	return a.raw(t, method, path, b, h)
}

// user is a signed-up person with their session cookie.
type user struct {
	id, email, password, cookie string
}

var emailSeq struct {
	sync.Mutex
	n int
}

func uniqueEmail(kind string) string {
	emailSeq.Lock()
	defer emailSeq.Unlock()
	emailSeq.n++
	return fmt.Sprintf("%s-%d-%d@security.test", kind, time.Now().UnixNano(), emailSeq.n)
}

func (a *api) signUp(t *testing.T, kind string) user {
	t.Helper()
	u := user{email: uniqueEmail(kind), password: "pw-" + kind[:min(len(kind), 8)] + "-9"}
	res := a.do(t, "", http.MethodPost, "/api/users/signup", map[string]string{"email": u.email, "password": u.password})
	require.Equal(t, http.StatusCreated, res.Status, "signup: %s", res.Body)
	var body struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal(res.Body, &body))
	u.id = body.ID
	u.cookie = sessionCookie(t, res)
	return u
}

// sessionCookie is the "session=..." pair an answer set.
func sessionCookie(t require.TestingT, res response) string {
	for _, c := range (&http.Response{Header: res.Header}).Cookies() {
		if c.Name == "session" && c.Value != "" {
			return c.Name + "=" + c.Value
		}
	}
	require.Fail(t, "no session cookie set", "headers: %v", res.Header)
	return ""
}

type ticket struct {
	ID      string  `json:"id"`
	Title   string  `json:"title"`
	Price   float64 `json:"price"`
	UserID  string  `json:"userId"`
	Version int64   `json:"version"`
	OrderID string  `json:"orderId"`
}

type order struct {
	ID     string `json:"id"`
	UserID string `json:"userId"`
	Status string `json:"status"`
}

func (a *api) createTicket(t *testing.T, u user, title string, price float64) ticket {
	t.Helper()
	res := a.do(t, u.cookie, http.MethodPost, "/api/tickets", map[string]any{"title": title, "price": price})
	require.Equal(t, http.StatusCreated, res.Status, "create ticket: %s", res.Body)
	var tk ticket
	require.NoError(t, json.Unmarshal(res.Body, &tk))
	return tk
}

// reserve orders a ticket, waiting until orders has heard of it.
func (a *api) reserve(t *testing.T, u user, ticketID string) order {
	t.Helper()
	var o order
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		res := a.do(c, u.cookie, http.MethodPost, "/api/orders", map[string]string{"ticketId": ticketID})
		require.Equal(c, http.StatusCreated, res.Status, "reserve: %s", res.Body)
		require.NoError(c, json.Unmarshal(res.Body, &o))
	}, 20*time.Second, 50*time.Millisecond)
	return o
}

// awaitPayable waits until payments has heard of the order: until then a
// payment is 404 whoever asks, which would hide a wrong 401. It probes as
// someone who does not own the order (404 until known, 401 after), so the
// probe never pays.
func (a *api) awaitPayable(t *testing.T, notOwner user, orderID string) {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		res := a.do(c, notOwner.cookie, http.MethodPost, "/api/payments", map[string]string{"token": "tok_visa", "orderId": orderID})
		assert.Equal(c, http.StatusUnauthorized, res.Status, "payments has not heard of the order yet: %s", res.Body)
	}, 20*time.Second, 50*time.Millisecond)
}

// awaitTicketReserved waits until tickets has heard of the order.
func (a *api) awaitTicketReserved(t *testing.T, ticketID string) {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var tk ticket
		res := a.do(c, "", http.MethodGet, "/api/tickets/"+ticketID, nil)
		require.Equal(c, http.StatusOK, res.Status)
		require.NoError(c, json.Unmarshal(res.Body, &tk))
		assert.NotEmpty(c, tk.OrderID)
	}, 20*time.Second, 50*time.Millisecond)
}
