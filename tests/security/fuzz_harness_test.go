package security

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ticketing/common/session"
	"github.com/ticketing/common/testkit"
)

// The fuzz targets run a service's real handler in-process (its app
// package, over FerretDB and an in-process NATS Streaming server) and feed
// it arbitrary requests. Whatever arrives, the answer is below 500, and any
// refusal carries the contract's error body. `go test` runs only the seeds;
// `make fuzz` runs each target for a while.

const fuzzKey = "security-fuzz-key"

// fuzzUser is the signed-in caller of the fuzz targets.
type fuzzUser struct {
	id, cookie string
	sessions   *session.Manager
}

func newFuzzUser(tb testing.TB) fuzzUser {
	tb.Helper()
	m, err := session.NewManager(session.Config{Key: []byte(fuzzKey)})
	if err != nil {
		tb.Fatal(err)
	}
	id := "64b7f0c2a1b2c3d4e5f60718"
	return fuzzUser{id: id, cookie: testkit.Cookie(tb, fuzzKey, id, "fuzz@example.com"), sessions: m}
}

// fuzzRequest builds a request whose path and query may hold anything the
// fuzzer made up: they are set on the URL directly, as a raw HTTP request
// line would carry them, rather than parsed (which would refuse most).
func fuzzRequest(method, path, rawQuery string, body []byte, cookie string) *http.Request {
	r := httptest.NewRequest(method, "/", bytes.NewReader(body))
	r.URL.Path = path
	r.URL.RawPath = ""
	r.URL.RawQuery = rawQuery
	r.RequestURI = ""
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	return r
}

// serve runs one request through h and checks the answer.
func serve(t *testing.T, h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	checkAnswer(t, r.Method+" "+r.URL.Path, w.Code, w.Body.Bytes())
	return w
}

// checkAnswer fails on a 5xx and on a refusal without the contract's body.
func checkAnswer(t *testing.T, what string, status int, body []byte) {
	t.Helper()
	if status >= 500 {
		t.Fatalf("%s answered %d: %.500s", what, status, body)
	}
	if status < 400 {
		return
	}
	var e errorBody
	if err := json.Unmarshal(body, &e); err != nil || len(e.Errors) == 0 || e.Errors[0].Message == "" {
		t.Fatalf("%s answered %d without the contract's error body: %.500s", what, status, body)
	}
}

// idFor maps a fuzzed id to a path segment: "" stands for a real record,
// so the fuzzer also reaches the code past the look-up.
func idFor(fuzzed, real string) string {
	if fuzzed == "" {
		return real
	}
	return strings.TrimPrefix(fuzzed, "/")
}

// seedBodies are bodies each route's fuzz target starts from.
var seedBodies = []string{
	``, `{}`, `null`, `[]`, `"x"`, `{"title":`, `{"title":"opera","price":"20.50"}`, `{"title":"opera","price":20.5}`,
	`{"title":42,"price":{"a":1}}`, `{"title":"` + strings.Repeat("x", 300) + `","price":"1e3"}`, `{"price":"-0.001"}`,
	`{"ticketId":"64b7f0c2a1b2c3d4e5f60719"}`, `{"ticketId":123}`, `{"token":"tok_visa","orderId":"64b7f0c2a1b2c3d4e5f60719"}`,
	`{"email":"a@b.co","password":"secret"}`, `{"email":{"$ne":1},"password":["x"]}`, "{\"title\":\"\xff\",\"price\":\"\u0000\"}",
}

// httptestDo runs one set-up request through h.
func httptestDo(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// decodeID reads the id of a created record from its JSON answer.
func decodeID(tb testing.TB, body []byte) string {
	tb.Helper()
	var v struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.ID == "" {
		tb.Fatalf("no id in %s: %v", body, err)
	}
	return v.ID
}
