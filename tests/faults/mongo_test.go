package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/tools/loadgen/check"
	"github.com/ticketing/tools/loadgen/client"
	"github.com/ticketing/tools/loadgen/scenario"
	"github.com/ticketing/tools/loadgen/stats"
)

// outage is how long the database stays unreachable.
const outage = 10 * time.Second

// holdPort keeps the database's port taken so that the launcher cannot
// bring FerretDB back: each of its restarts fails to listen. Connections
// that arrive are accepted and dropped at once, as by a database that is
// not there. It returns a function that frees the port.
func holdPort(t *testing.T, address string) (release func()) {
	t.Helper()
	var ln net.Listener
	var err error
	deadline := time.Now().Add(400 * time.Millisecond) // the launcher restarts after 500 ms
	for {
		ln, err = net.Listen("tcp", address)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, err, "take the database's port %s before the launcher restarts it", address)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	})
	return func() {
		_ = ln.Close()
		wg.Wait()
	}
}

// answer is what a request during the outage got.
type answer struct {
	what     string
	status   int
	body     []byte
	err      error
	took     time.Duration
	finished time.Time
}

// TestDatabaseOutage makes FerretDB unreachable for ten seconds while
// requests keep coming. Every answer in that time is a 500 or 503 with the
// contract's body (or, for a request still waiting when the database came
// back, a normal answer); the services come back by themselves, without a
// restart; and nothing is left half-written.
func TestDatabaseOutage(t *testing.T) {
	f := startFleet(t)
	rec := stats.NewRecorder(nil)
	cl := client.New(urls(f), rec, 8, 60*time.Second)
	t.Cleanup(cl.Close)
	env := scenario.NewEnv(cl, rec, "outage")
	ctx := context.Background()

	seller, err := env.SignUp(ctx, "seller")
	require.NoError(t, err)
	buyer, err := env.SignUp(ctx, "buyer")
	require.NoError(t, err)
	before, err := seller.CreateTicket(ctx, "before the outage", 10)
	require.NoError(t, err)
	env.Ledger.Ticket(scenario.TicketRecord{ID: before.ID, WantVersion: -1})
	held, err := seller.CreateTicket(ctx, "held before the outage", 11)
	require.NoError(t, err)
	env.Ledger.Ticket(scenario.TicketRecord{ID: held.ID, WantVersion: -1})
	var order client.Order
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		o, res, err := buyer.Reserve(ctx, held.ID)
		require.NoError(c, err)
		require.Equal(c, http.StatusCreated, res.Status)
		order = o
	}, 30*time.Second, 50*time.Millisecond)
	env.Ledger.Order(scenario.OrderRecord{ID: order.ID, TicketID: held.ID, ExpiresAt: order.ExpiresAt})

	services := []string{"auth", "tickets", "orders", "payments", "expiration"}
	servicePids := map[string]int{}
	for _, s := range services {
		servicePids[s], err = pid(f, s)
		require.NoError(t, err)
	}

	// Take the database away.
	dbPid, err := pid(f, "mongo")
	require.NoError(t, err)
	require.NoError(t, syscall.Kill(dbPid, syscall.SIGKILL))
	require.NoError(t, awaitDead(dbPid, 5*time.Second))
	release := holdPort(t, addr(t, f, "mongo"))
	down := time.Now()
	released := false
	defer func() {
		if !released {
			release()
		}
	}()

	// Every kind of request, repeatedly, while it is away.
	raw := func(method, url, cookie string, body any) answer {
		a := answer{what: method + " " + url}
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, url, rd)
		req.Header.Set("Content-Type", "application/json")
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		start := time.Now()
		res, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
		a.took, a.finished = time.Since(start), time.Now()
		if err != nil {
			a.err = err
			return a
		}
		defer res.Body.Close()
		a.status = res.StatusCode
		a.body, a.err = io.ReadAll(res.Body)
		return a
	}
	u := urls(f)
	requests := []func(i int) answer{
		func(int) answer { return raw(http.MethodGet, u.Tickets+"/api/tickets", "", nil) },
		func(int) answer { return raw(http.MethodGet, u.Tickets+"/api/tickets/"+before.ID, "", nil) },
		func(i int) answer {
			return raw(http.MethodPost, u.Tickets+"/api/tickets", seller.Cookie(), map[string]any{"title": fmt.Sprintf("during the outage %d", i), "price": 12})
		},
		func(i int) answer {
			return raw(http.MethodPut, u.Tickets+"/api/tickets/"+before.ID, seller.Cookie(), map[string]any{"title": "edited during the outage", "price": 13 + i})
		},
		func(int) answer {
			return raw(http.MethodPost, u.Orders+"/api/orders", buyer.Cookie(), map[string]string{"ticketId": before.ID})
		},
		func(int) answer { return raw(http.MethodGet, u.Orders+"/api/orders", buyer.Cookie(), nil) },
		func(int) answer { return raw(http.MethodDelete, u.Orders+"/api/orders/"+order.ID, buyer.Cookie(), nil) },
		func(int) answer {
			return raw(http.MethodPost, u.Payments+"/api/payments", buyer.Cookie(), map[string]string{"token": "tok_visa", "orderId": order.ID})
		},
		func(i int) answer {
			return raw(http.MethodPost, u.Auth+"/api/users/signup", "", map[string]string{"email": fmt.Sprintf("outage-%d-%d@example.com", time.Now().UnixNano(), i), "password": "secret"})
		},
		func(int) answer {
			return raw(http.MethodPost, u.Auth+"/api/users/signin", "", map[string]string{"email": seller.Email, "password": env.Password})
		},
	}
	for _, s := range services {
		if s == "expiration" {
			continue // no database of its own: it stays ready
		}
		requests = append(requests, func(int) answer { return raw(http.MethodGet, f.URL(s)+"/readyz", "", nil) })
	}

	var mu sync.Mutex
	var answers []answer
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i, r := range requests {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				a := r(i*1000 + n)
				mu.Lock()
				answers = append(answers, a)
				mu.Unlock()
				time.Sleep(200 * time.Millisecond)
			}
		})
	}
	time.Sleep(time.Until(down.Add(outage)))
	close(stop)
	release()
	released = true
	back := time.Now()
	wg.Wait()

	// Judge the answers given while the database was away.
	during := 0
	var slowest time.Duration
	statuses := map[int]int{}
	for _, a := range answers {
		slowest = max(slowest, a.took)
		statuses[a.status]++
		require.NoError(t, a.err, "%s got no answer after %s", a.what, a.took)
		if a.finished.After(back) {
			// It waited for the database and got its answer after it
			// returned; whatever it was, it was not a 5xx with a bad body.
			assert.True(t, a.status < 500 || contractBody(a.body), "%s: %d %s", a.what, a.status, a.body)
			continue
		}
		during++
		if servedFromView(a.what) {
			// The tickets service answers these from its in-memory view of
			// the tickets on sale, so they keep working while the database
			// is away; they must still be right.
			assert.Equal(t, http.StatusOK, a.status, "%s answered %d while the database was away: %s", a.what, a.status, a.body)
			assert.Contains(t, string(a.body), `"id":"`+before.ID+`"`, "%s lost the ticket on sale: %s", a.what, a.body)
			continue
		}
		if assert.Contains(t, []int{http.StatusInternalServerError, http.StatusServiceUnavailable}, a.status,
			"%s answered %d while the database was away: %s", a.what, a.status, a.body) {
			assert.True(t, contractBody(a.body), "%s: %d without the contract's body: %s", a.what, a.status, a.body)
		}
	}
	t.Logf("%d answers while the database was away, %d after it came back; statuses %v; slowest %s",
		during, len(answers)-during, statuses, slowest.Round(time.Millisecond))
	require.Positive(t, during, "no request was answered while the database was away")
	// Each route must say so while the database is away (CONTRACT.md §1.1:
	// 500 for our own fault), not hold the request until it is back.
	refused := map[string]int{}
	for _, a := range answers {
		if !a.finished.After(back) && a.status >= 500 {
			refused[routeOf(a.what)]++
		}
	}
	for _, route := range routesAsked(answers) {
		if servedFromView(route) {
			continue
		}
		assert.Positive(t, refused[route], "%s never answered 500/503 while the database was away: it waited for it (slowest answer %s)",
			route, slowest.Round(time.Millisecond))
	}

	// The services recover by themselves: same processes, working again.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		for _, s := range services {
			res, err := http.Get(f.URL(s) + "/readyz")
			require.NoError(c, err)
			_ = res.Body.Close()
			assert.Equal(c, http.StatusOK, res.StatusCode, "%s not ready", s)
		}
	}, 90*time.Second, 200*time.Millisecond, "the services did not become ready again")
	t.Logf("ready again %s after the port was freed", time.Since(back).Round(time.Millisecond))
	for _, s := range services {
		p, err := pid(f, s)
		require.NoError(t, err)
		assert.Equal(t, servicePids[s], p, "%s was restarted; it should have recovered by itself", s)
	}

	// And they work: a whole purchase goes through.
	after, err := seller.CreateTicket(ctx, "after the outage", 14)
	require.NoError(t, err)
	env.Ledger.Ticket(scenario.TicketRecord{ID: after.ID, WantVersion: -1})
	env.EventTimeout = 60 * time.Second
	require.NoError(t, env.Purchase(ctx, scenario.Options{Concurrency: 1, Count: 2}))
	failed, why := env.Ledger.Failures()
	require.Zero(t, failed, "purchases after the outage: %v", why)

	// Nothing half-written: every record is whole, every event went out,
	// every replica agrees.
	out, err := check.Run(ctx, databases(t, f), env.Ledger, check.Options{Grace: holdGrace, Settle: 2 * time.Minute, Logf: t.Logf})
	require.NoError(t, err)
	requireChecksPass(t, out)
}

// servedFromView reports whether a request (or route) is one the tickets
// service answers from its in-memory view of the tickets on sale, without
// the database: the list and a ticket on sale.
func servedFromView(what string) bool {
	route := routeOf(what)
	return route == "GET /api/tickets" || route == "GET /api/tickets/:id"
}

// contractBody reports whether body is the contract's error shape.
func contractBody(body []byte) bool {
	var e struct {
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	return json.Unmarshal(body, &e) == nil && len(e.Errors) > 0 && e.Errors[0].Message != ""
}

// routeOf turns "POST http://127.0.0.1:1234/api/tickets/6b08..." into
// "POST /api/tickets/:id", so answers group by route.
func routeOf(what string) string {
	method, rest, _ := strings.Cut(what, " ")
	if i := strings.Index(rest, "/api/"); i >= 0 {
		rest = rest[i:]
	} else if i := strings.LastIndex(rest, "/"); i >= 0 {
		rest = rest[i:] // /readyz
	}
	parts := strings.Split(rest, "/")
	for i, p := range parts {
		if len(p) == 24 {
			parts[i] = ":id"
		}
	}
	return method + " " + strings.Join(parts, "/")
}

// routesAsked lists the API routes among the answers (not /readyz, whose
// 503 while the database is away is checked with the rest).
func routesAsked(answers []answer) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range answers {
		r := routeOf(a.what)
		if !seen[r] && strings.Contains(r, "/api/") {
			seen[r] = true
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out
}
