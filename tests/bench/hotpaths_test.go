// Package bench holds `go test -bench` benchmarks of the code every request
// or event goes through: reading the session cookie, verifying its JWT,
// binding and validating a request body, encoding and decoding events, and
// a versioned update against FerretDB. Each reports its allocations.
//
//	go test -run '^$' -bench . -benchmem ./tests/bench/
package bench

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/common/events"
	"github.com/ticketing/common/httpx"
	"github.com/ticketing/common/session"
)

const (
	key    = "bench-key-0123456789abcdef"
	userID = "64b7f0c2a1b2c3d4e5f60718"
)

func manager(b *testing.B) *session.Manager {
	b.Helper()
	m, err := session.NewManager(session.Config{Key: []byte(key)})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func token(b *testing.B, m *session.Manager) string {
	b.Helper()
	tok, err := m.Issue(userID, "buyer@example.com")
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

// BenchmarkSessionDecodeCookie is the base64 + JSON step of every request
// that carries a cookie.
func BenchmarkSessionDecodeCookie(b *testing.B) {
	value := session.EncodeCookieValue(token(b, manager(b)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := session.DecodeCookieValue(value); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSessionVerifyJWT is the HS256 check of the token inside.
func BenchmarkSessionVerifyJWT(b *testing.B) {
	m := manager(b)
	tok := token(b, m)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSessionFromRequest is both, from the raw Cookie header, as the
// middleware of every service runs it.
func BenchmarkSessionFromRequest(b *testing.B) {
	m := manager(b)
	r := httptest.NewRequest(http.MethodGet, "/api/orders", nil)
	r.Header.Set("Cookie", "theme=dark; session="+session.EncodeCookieValue(token(b, m)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := m.FromRequest(r); !ok {
			b.Fatal("not signed in")
		}
	}
}

// ticketBody has the shape of the tickets service's request (both fields
// kept raw, since the price may be a number or a numeric string).
type ticketBody struct {
	Title json.RawMessage `json:"title"`
	Price json.RawMessage `json:"price"`
}

// signupBody has the auth service's rules, which the validator checks.
type signupBody struct {
	Email    httpx.TrimmedString `json:"email" binding:"required,email" msg:"Email must be valid"`
	Password httpx.TrimmedString `json:"password" binding:"required,min=4,max=20" msg:"Password must be between 4 and 20 characters"`
}

func benchBind(b *testing.B, body []byte, dst func() any, wantErr bool) {
	gin.SetMode(gin.ReleaseMode)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		c, _ := gin.CreateTestContext(w)
		c.Request = httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		err := httpx.BindJSON(c, dst())
		if (err != nil) != wantErr {
			b.Fatalf("BindJSON: %v", err)
		}
	}
}

// BenchmarkBindJSONTicket decodes a ticket body as POST /api/tickets does.
func BenchmarkBindJSONTicket(b *testing.B) {
	benchBind(b, []byte(`{"title":"Opera, row 7 seat 12","price":"20.50"}`), func() any { return &ticketBody{} }, false)
}

// BenchmarkBindJSONSignupValid runs the validator's rules on a good body.
func BenchmarkBindJSONSignupValid(b *testing.B) {
	benchBind(b, []byte(`{"email":"  buyer@example.com ","password":"secret"}`), func() any { return &signupBody{} }, false)
}

// BenchmarkBindJSONSignupInvalid is the refusal path: both rules fail and
// become the contract's field errors.
func BenchmarkBindJSONSignupInvalid(b *testing.B) {
	benchBind(b, []byte(`{"email":"nope","password":"x"}`), func() any { return &signupBody{} }, true)
}

func orderCreated() events.OrderCreated {
	return events.OrderCreated{
		ID: "64b7f0c2a1b2c3d4e5f60719", Version: 0, Status: events.OrderStatusCreated, UserID: userID,
		ExpiresAt: time.Date(2026, 5, 1, 12, 15, 0, 0, time.UTC),
		Ticket:    events.OrderCreatedTicket{ID: "64b7f0c2a1b2c3d4e5f6071a", Price: 20.5},
	}
}

// BenchmarkEventEncodeOrderCreated is what the outbox stores per order.
func BenchmarkEventEncodeOrderCreated(b *testing.B) {
	ev := orderCreated()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEventDecodeOrderCreated is what three listeners do per order.
func BenchmarkEventDecodeOrderCreated(b *testing.B) {
	data, err := json.Marshal(orderCreated())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := events.Decode[events.OrderCreated](data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEventDecodeTicketUpdated is the busiest subject: every edit,
// reservation and release.
func BenchmarkEventDecodeTicketUpdated(b *testing.B) {
	data, err := json.Marshal(events.TicketUpdated{ID: "64b7f0c2a1b2c3d4e5f6071a", Version: 3, Title: "Opera", Price: 20.5, UserID: userID, OrderID: "64b7f0c2a1b2c3d4e5f60719"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := events.Decode[events.TicketUpdated](data); err != nil {
			b.Fatal(err)
		}
	}
}
