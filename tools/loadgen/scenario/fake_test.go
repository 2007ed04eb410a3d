package scenario_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeAPI is an in-memory stand-in for the fleet, just faithful enough to
// the contract for the scenarios: it reserves atomically (unless told to
// sell twice), answers 404 for a new ticket until its "event" has arrived
// (lag), completes paid orders, and lapses holds at expiresAt.
type fakeAPI struct {
	lag       time.Duration // how long a new ticket or order is unknown to the other services
	hold      time.Duration
	sellTwice bool // the bug the race scenario must catch
	// staleView makes the tickets service never show a reservation, as if
	// its order:created had not arrived yet: every buyer gets as far as
	// POST /api/orders.
	staleView  bool
	failFirst  atomic.Int64 // answer this many requests with 503 first
	mu         sync.Mutex
	seq        int
	users      map[string]string // cookie -> user id
	tickets    map[string]*fakeTicket
	orders     map[string]*fakeOrder
	paid       map[string]bool
	requests   atomic.Int64
	serverErrs atomic.Int64
}

type fakeTicket struct {
	ID, Title, UserID, OrderID string
	Price                      float64
	Version                    int64
	created                    time.Time
}

type fakeOrder struct {
	ID, UserID, TicketID, Status string
	ExpiresAt                    time.Time
	created                      time.Time
}

func newFake(t *testing.T, f *fakeAPI) string {
	f.users, f.tickets, f.orders, f.paid = map[string]string{}, map[string]*fakeTicket{}, map[string]*fakeOrder{}, map[string]bool{}
	if f.hold == 0 {
		f.hold = time.Hour
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv.URL
}

func (f *fakeAPI) id() string {
	f.seq++
	return fmt.Sprintf("%024x", f.seq)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"errors": []map[string]string{{"message": msg}}})
}

func (f *fakeAPI) ticketJSON(t *fakeTicket) map[string]any {
	m := map[string]any{"id": t.ID, "title": t.Title, "price": t.Price, "userId": t.UserID, "version": t.Version}
	if t.OrderID != "" && !f.staleView {
		m["orderId"] = t.OrderID
	}
	return m
}

// lapse cancels holds whose time is up, as the expiration service would.
func (f *fakeAPI) lapse(now time.Time) {
	for _, o := range f.orders {
		if o.Status == "created" && !now.Before(o.ExpiresAt) {
			o.Status = "cancelled"
			if t := f.tickets[o.TicketID]; t.OrderID == o.ID {
				t.OrderID = ""
			}
		}
	}
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	if f.failFirst.Add(-1) >= 0 {
		f.serverErrs.Add(1)
		fail(w, http.StatusServiceUnavailable, "restarting")
		return
	}
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	str := func(k string) string { s, _ := body[k].(string); return s }
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	f.lapse(now)
	user := ""
	if c, err := r.Cookie("session"); err == nil {
		user = f.users[c.Value]
	}
	path := r.URL.Path
	switch {
	case r.Method == http.MethodPost && path == "/api/users/signup":
		id := f.id()
		f.users["c"+id] = id
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "c" + id})
		writeJSON(w, http.StatusCreated, map[string]string{"id": id, "email": str("email")})
	case user == "" && r.Method != http.MethodGet:
		fail(w, http.StatusUnauthorized, "Not authorized")
	case r.Method == http.MethodPost && path == "/api/tickets":
		t := &fakeTicket{ID: f.id(), Title: str("title"), Price: body["price"].(float64), UserID: user, created: now}
		f.tickets[t.ID] = t
		writeJSON(w, http.StatusCreated, f.ticketJSON(t))
	case r.Method == http.MethodGet && path == "/api/tickets":
		list := []map[string]any{}
		for _, t := range f.tickets {
			if t.OrderID == "" || f.staleView {
				list = append(list, f.ticketJSON(t))
			}
		}
		writeJSON(w, http.StatusOK, list)
	case strings.HasPrefix(path, "/api/tickets/"):
		t := f.tickets[strings.TrimPrefix(path, "/api/tickets/")]
		switch {
		case t == nil:
			fail(w, http.StatusNotFound, "Not Found")
		case r.Method == http.MethodGet:
			writeJSON(w, http.StatusOK, f.ticketJSON(t))
		case t.OrderID != "":
			fail(w, http.StatusBadRequest, "Cannot edit a reserved ticket")
		default:
			t.Title, t.Price, t.Version = str("title"), body["price"].(float64), t.Version+1
			writeJSON(w, http.StatusOK, f.ticketJSON(t))
		}
	case r.Method == http.MethodPost && path == "/api/orders":
		t := f.tickets[str("ticketId")]
		switch {
		case t == nil || now.Sub(t.created) < f.lag:
			fail(w, http.StatusNotFound, "Not Found")
		case t.OrderID != "" && !f.sellTwice:
			fail(w, http.StatusBadRequest, "Ticket is already reserved")
		default:
			o := &fakeOrder{ID: f.id(), UserID: user, TicketID: t.ID, Status: "created", ExpiresAt: now.Add(f.hold).UTC(), created: now}
			f.orders[o.ID] = o
			t.OrderID = o.ID
			writeJSON(w, http.StatusCreated, map[string]any{"id": o.ID, "userId": user, "status": o.Status,
				"expiresAt": o.ExpiresAt.Format("2006-01-02T15:04:05.000Z"), "version": 0,
				"ticket": map[string]any{"id": t.ID, "title": t.Title, "price": t.Price, "version": t.Version}})
		}
	case r.Method == http.MethodGet && path == "/api/orders":
		list := []map[string]any{}
		for _, o := range f.orders {
			if o.UserID == user {
				list = append(list, map[string]any{"id": o.ID, "userId": o.UserID, "status": o.Status,
					"expiresAt": o.ExpiresAt.Format("2006-01-02T15:04:05.000Z"), "ticket": map[string]any{"id": o.TicketID}})
			}
		}
		writeJSON(w, http.StatusOK, list)
	case strings.HasPrefix(path, "/api/orders/"):
		o := f.orders[strings.TrimPrefix(path, "/api/orders/")]
		switch {
		case o == nil:
			fail(w, http.StatusNotFound, "Not Found")
		case o.UserID != user:
			fail(w, http.StatusUnauthorized, "Not authorized")
		case r.Method == http.MethodDelete:
			if o.Status == "created" {
				o.Status = "cancelled"
				f.tickets[o.TicketID].OrderID = ""
			}
			w.WriteHeader(http.StatusNoContent)
		default:
			writeJSON(w, http.StatusOK, map[string]any{"id": o.ID, "userId": o.UserID, "status": o.Status,
				"expiresAt": o.ExpiresAt.Format("2006-01-02T15:04:05.000Z"), "ticket": map[string]any{"id": o.TicketID}})
		}
	case r.Method == http.MethodPost && path == "/api/payments":
		o := f.orders[str("orderId")]
		switch {
		case o == nil || now.Sub(o.created) < f.lag:
			fail(w, http.StatusNotFound, "Not Found")
		case f.paid[o.ID]:
			fail(w, http.StatusBadRequest, "Order has already been paid")
		case o.Status == "cancelled":
			fail(w, http.StatusBadRequest, "Cannot pay for an cancelled order")
		default:
			f.paid[o.ID] = true
			o.Status = "complete"
			writeJSON(w, http.StatusCreated, map[string]string{"id": f.id()})
		}
	default:
		fail(w, http.StatusNotFound, "Not Found")
	}
}
