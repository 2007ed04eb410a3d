package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// stripeCall is one request the app sent to Stripe.
type stripeCall struct {
	Method         string
	Path           string
	IdempotencyKey string
	Form           url.Values
}

// recorder sits between the app and Stripe (stripe-mock or a stand-in) and
// keeps every request, so tests check what was really sent.
type recorder struct {
	URL   string
	next  http.Handler
	mu    sync.Mutex
	calls []stripeCall
}

func newRecorder(t testing.TB, next http.Handler) *recorder {
	t.Helper()
	r := &recorder{next: next}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	form, _ := url.ParseQuery(string(body))
	r.mu.Lock()
	r.calls = append(r.calls, stripeCall{
		Method: req.Method, Path: req.URL.Path, IdempotencyKey: req.Header.Get("Idempotency-Key"), Form: form,
	})
	r.mu.Unlock()
	req.Body = io.NopCloser(bytes.NewReader(body))
	r.next.ServeHTTP(w, req)
}

// to returns the calls made to path (e.g. "/v1/charges").
func (r *recorder) to(path string) []stripeCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []stripeCall
	for _, c := range r.calls {
		if c.Path == path {
			out = append(out, c)
		}
	}
	return out
}

// stripeMock is a proxy to the stripe-mock named by TEST_STRIPE_API_BASE.
// Without it the test is skipped, except under CI=true.
func stripeMock(t testing.TB) http.Handler {
	t.Helper()
	base := os.Getenv("TEST_STRIPE_API_BASE")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TEST_STRIPE_API_BASE not set under CI=true; run via make test")
		}
		t.Skip("TEST_STRIPE_API_BASE not set; run via make test")
	}
	u, err := url.Parse(base)
	require.NoError(t, err)
	return httputil.NewSingleHostReverseProxy(u)
}

// declinedToken is the token the stand-in declines, as Stripe's test mode does.
const declinedToken = "tok_chargeDeclined"

// standIn speaks the few Stripe answers the service needs, and what
// stripe-mock cannot: declines, idempotent replays, a lost answer, and
// holding a request until the test lets it go.
type standIn struct {
	mu      sync.Mutex
	replies map[string]reply          // by idempotency key, as Stripe stores them
	charges int                       // charges made (replays excluded)
	refunds int                       // refunds made (replays excluded)
	intents map[string]map[string]any // PaymentIntents made, by id
	// loseAnswers: the next n requests are carried out but answered with a
	// 500, as when the answer is lost on the way back.
	loseAnswers int
	// holdCharges / holdRefunds, when set, make charges / refunds wait
	// until the channel is closed.
	holdCharges chan struct{}
	holdRefunds chan struct{}
}

type reply struct {
	status int
	body   string
}

func newStandIn() *standIn {
	return &standIn{replies: map[string]reply{}, intents: map[string]map[string]any{}}
}

// holdCharges makes charges wait until the returned release is called. The
// test's end releases them too, so a failing test never hangs on a held
// request.
func (s *standIn) holdChargesUntil(t testing.TB) (release func()) {
	return s.holdUntil(t, &s.holdCharges)
}

// holdRefundsUntil is holdChargesUntil for refunds.
func (s *standIn) holdRefundsUntil(t testing.TB) (release func()) {
	return s.holdUntil(t, &s.holdRefunds)
}

func (s *standIn) holdUntil(t testing.TB, field *chan struct{}) func() {
	ch := make(chan struct{})
	s.mu.Lock()
	*field = ch
	s.mu.Unlock()
	var once sync.Once
	release := func() { once.Do(func() { close(ch) }) }
	t.Cleanup(release)
	return release
}

func (s *standIn) hold() (charges, refunds chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.holdCharges, s.holdRefunds
}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	s.mu.Lock()
	rep, replay := s.replies[key]
	s.mu.Unlock()
	if !replay || key == "" {
		holdCharges, holdRefunds := s.hold()
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1/charges":
			if holdCharges != nil {
				<-holdCharges
			}
			rep = s.charge(r.PostForm)
		case r.Method == http.MethodPost && r.URL.Path == "/v1/refunds":
			if holdRefunds != nil {
				<-holdRefunds
			}
			rep = s.refund(r.PostForm)
		case r.Method == http.MethodPost && r.URL.Path == "/v1/payment_intents":
			rep = s.createIntent(r.PostForm)
		case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/payment_intents/"):
			rep = s.intent(strings.TrimPrefix(r.URL.Path, "/v1/payment_intents/"))
		default:
			rep = stripeError(http.StatusNotFound, "invalid_request_error", "resource_missing", "Unrecognized request URL")
		}
		s.mu.Lock()
		if key != "" {
			s.replies[key] = rep
		}
		if s.loseAnswers > 0 {
			s.loseAnswers--
			rep = stripeError(http.StatusInternalServerError, "api_error", "", "An unknown error occurred")
		}
		s.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", "req_standin")
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, rep.body)
}

func (s *standIn) charge(f url.Values) reply {
	if f.Get("source") == declinedToken {
		return stripeError(http.StatusPaymentRequired, "card_error", "card_declined", "Your card was declined.")
	}
	s.mu.Lock()
	s.charges++
	id := fmt.Sprintf("ch_standin_%d", s.charges)
	s.mu.Unlock()
	return jsonReply(http.StatusOK, map[string]any{
		"id": id, "object": "charge", "amount": json.Number(f.Get("amount")), "currency": f.Get("currency"),
		"status": "succeeded", "paid": true,
	})
}

func (s *standIn) refund(f url.Values) reply {
	s.mu.Lock()
	s.refunds++
	id := fmt.Sprintf("re_standin_%d", s.refunds)
	s.mu.Unlock()
	return jsonReply(http.StatusOK, map[string]any{
		"id": id, "object": "refund", "charge": f.Get("charge"), "payment_intent": f.Get("payment_intent"),
		"status": "succeeded",
	})
}

func (s *standIn) createIntent(f url.Values) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := fmt.Sprintf("pi_standin%d", len(s.intents)+1)
	pi := map[string]any{
		"id": id, "object": "payment_intent", "amount": json.Number(f.Get("amount")), "currency": f.Get("currency"),
		"status": "requires_payment_method", "client_secret": id + "_secret_standin",
		"metadata": map[string]string{"order_id": f.Get("metadata[order_id]"), "user_id": f.Get("metadata[user_id]")},
	}
	s.intents[id] = pi
	return jsonReply(http.StatusOK, pi)
}

func (s *standIn) intent(id string) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	pi, ok := s.intents[id]
	if !ok {
		return stripeError(http.StatusNotFound, "invalid_request_error", "resource_missing", "No such payment_intent: '"+id+"'")
	}
	return jsonReply(http.StatusOK, pi)
}

// succeed moves an intent to succeeded, as Stripe does once the page has
// confirmed it, and returns the intent as a webhook event would carry it.
func (s *standIn) succeed(t testing.TB, id string) map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	pi, ok := s.intents[id]
	require.True(t, ok, "no intent %s", id)
	pi["status"] = "succeeded"
	return maps.Clone(pi)
}

// counts returns how many charges and refunds were really made.
func (s *standIn) counts() (charges, refunds int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.charges, s.refunds
}

func stripeError(status int, typ, code, msg string) reply {
	e := map[string]any{"type": typ, "message": msg}
	if code != "" {
		e["code"] = code
	}
	if code == "card_declined" {
		e["decline_code"] = "generic_decline"
	}
	return jsonReply(status, map[string]any{"error": e})
}

func jsonReply(status int, v any) reply {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return reply{status: status, body: string(b)}
}
