package httpx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/httpx"
	"github.com/ticketing/common/session"
)

type signupBody struct {
	Email    string `json:"email" binding:"required,email" msg:"Email must be valid"`
	Password string `json:"password" binding:"required,min=4,max=20" msg:"Password must be between 4 and 20 characters"`
	Count    int    `json:"count"`
}

type fixture struct {
	engine   *gin.Engine
	sessions *session.Manager
	logs     *bytes.Buffer
	ready    *error
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	logs := &bytes.Buffer{}
	sm, err := session.NewManager(session.Config{Key: []byte("k")})
	require.NoError(t, err)
	var readyErr error
	e, err := httpx.NewEngine(httpx.Config{
		Service:  "test",
		Logger:   slog.New(slog.NewJSONHandler(logs, nil)),
		Sessions: sm,
		Checks:   []httpx.Check{{Name: "db", Fn: func(context.Context) error { return readyErr }}},
	})
	require.NoError(t, err)
	e.POST("/api/open", func(c *gin.Context) {
		var b signupBody
		if err := httpx.BindJSON(c, &b); err != nil {
			httpx.Fail(c, err)
			return
		}
		c.JSON(http.StatusCreated, b)
	})
	e.POST("/api/closed", httpx.RequireAuth(), func(c *gin.Context) {
		var b signupBody
		if err := httpx.BindJSON(c, &b); err != nil {
			httpx.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"user": httpx.UserID(c)})
	})
	e.GET("/api/panic", func(*gin.Context) { panic("boom") })
	e.GET("/api/fail", func(c *gin.Context) { httpx.Fail(c, errors.New("db password=secret is down")) })
	e.GET("/api/items/:id", func(c *gin.Context) {
		id, err := httpx.ParamID(c, "id")
		if err != nil {
			httpx.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"id": id})
	})
	return &fixture{engine: e, sessions: sm, logs: logs, ready: &readyErr}
}

func (f *fixture) do(t *testing.T, method, path string, body io.Reader, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, body)
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	f.engine.ServeHTTP(w, r)
	return w
}

func errorBody(t *testing.T, w *httptest.ResponseRecorder) errs.Body {
	t.Helper()
	var b errs.Body
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &b), w.Body.String())
	require.NotEmpty(t, b.Errors, w.Body.String())
	return b
}

func TestErrorResponses(t *testing.T) {
	f := newFixture(t)
	token, err := f.sessions.Issue("64b7f0c2a1b2c3d4e5f60718", "a@b.co")
	require.NoError(t, err)
	signedIn := http.Header{"Cookie": {"session=" + session.EncodeCookieValue(token)}}

	big := strings.Repeat("x", 2<<20)
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		header     http.Header
		wantStatus int
		want       []errs.FieldError
	}{
		{"unknown route", "GET", "/api/nope", "", nil, 404, []errs.FieldError{{Message: "Not Found"}}},
		{"unknown method", "DELETE", "/api/open", "", nil, 404, []errs.FieldError{{Message: "Not Found"}}},
		{"malformed json", "POST", "/api/open", `{"email":`, nil, 400, []errs.FieldError{{Message: "Request body is not valid JSON"}}},
		{"json array", "POST", "/api/open", `[1,2]`, nil, 400, []errs.FieldError{{Message: "Request body must be a JSON object"}}},
		{"2 MiB body", "POST", "/api/open", `{"email":"` + big + `"}`, nil, 413, []errs.FieldError{{Message: "Request body is larger than 1 MiB"}}},
		{"empty body: every field", "POST", "/api/open", "", nil, 400, []errs.FieldError{
			{Message: "Email must be valid", Field: "email"},
			{Message: "Password must be between 4 and 20 characters", Field: "password"},
		}},
		{"one bad field", "POST", "/api/open", `{"email":"nope","password":"good1"}`, nil, 400, []errs.FieldError{{Message: "Email must be valid", Field: "email"}}},
		{"wrong type", "POST", "/api/open", `{"email":{"a":1},"password":"good1"}`, nil, 400, []errs.FieldError{{Message: "Email must be valid", Field: "email"}}},
		{"wrong type without msg tag", "POST", "/api/open", `{"email":"a@b.co","password":"good1","count":"x"}`, nil, 400, []errs.FieldError{{Message: "count is invalid", Field: "count"}}},
		{"anonymous bad body is 401", "POST", "/api/closed", `{"email":`, nil, 401, []errs.FieldError{{Message: "Not authorized"}}},
		{"signed in bad body is 400", "POST", "/api/closed", `{}`, signedIn, 400, []errs.FieldError{
			{Message: "Email must be valid", Field: "email"},
			{Message: "Password must be between 4 and 20 characters", Field: "password"},
		}},
		{"panic", "GET", "/api/panic", "", nil, 500, []errs.FieldError{{Message: "Something went wrong"}}},
		{"internal error hides details", "GET", "/api/fail", "", nil, 500, []errs.FieldError{{Message: "Something went wrong"}}},
		{"malformed id", "GET", "/api/items/xyz", "", nil, 400, []errs.FieldError{{Message: "Id in the path must be 24 hex characters"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do(t, tt.method, tt.path, strings.NewReader(tt.body), tt.header)
			assert.Equal(t, tt.wantStatus, w.Code, w.Body.String())
			assert.Equal(t, tt.want, errorBody(t, w).Errors)
			assert.Contains(t, w.Header().Get("Content-Type"), "application/json")
		})
	}
	assert.Contains(t, f.logs.String(), "db password=secret is down", "internal details belong in the log")
	assert.Contains(t, f.logs.String(), "panic in handler")
}

func TestSuccessPaths(t *testing.T) {
	f := newFixture(t)
	w := f.do(t, "POST", "/api/open", strings.NewReader(`{"email":"a@b.co","password":"good1"}`), nil)
	assert.Equal(t, 201, w.Code, w.Body.String())

	token, err := f.sessions.Issue("64b7f0c2a1b2c3d4e5f60718", "a@b.co")
	require.NoError(t, err)
	w = f.do(t, "POST", "/api/closed", strings.NewReader(`{"email":"a@b.co","password":"good1"}`),
		http.Header{"Cookie": {"express:sess=" + session.EncodeCookieValue(token)}})
	assert.Equal(t, 200, w.Code, w.Body.String())
	assert.JSONEq(t, `{"user":"64b7f0c2a1b2c3d4e5f60718"}`, w.Body.String())

	w = f.do(t, "GET", "/api/items/64b7f0c2a1b2c3d4e5f60718", nil, nil)
	assert.Equal(t, 200, w.Code)
	assert.NotEmpty(t, w.Header().Get(httpx.RequestIDHeader))
}

func TestChunkedBodyOverLimit(t *testing.T) {
	f := newFixture(t)
	// No Content-Length: the limit must hold while reading too.
	r := httptest.NewRequest("POST", "/api/open", io.MultiReader(strings.NewReader(`{"email":"`), strings.NewReader(strings.Repeat("x", 2<<20))))
	r.ContentLength = -1
	w := httptest.NewRecorder()
	f.engine.ServeHTTP(w, r)
	assert.Equal(t, 413, w.Code, w.Body.String())
}

func TestHealthReadyMetrics(t *testing.T) {
	f := newFixture(t)
	assert.Equal(t, 200, f.do(t, "GET", "/healthz", nil, nil).Code)
	assert.Equal(t, 200, f.do(t, "GET", "/readyz", nil, nil).Code)

	*f.ready = errors.New("down")
	w := f.do(t, "GET", "/readyz", nil, nil)
	assert.Equal(t, 503, w.Code)
	assert.Equal(t, []errs.FieldError{{Message: "db is not ready"}}, errorBody(t, w).Errors)

	f.do(t, "GET", "/api/nope", nil, nil)
	w = f.do(t, "GET", "/metrics", nil, nil)
	require.Equal(t, 200, w.Code)
	assert.Contains(t, w.Body.String(), `http_requests_total{method="GET",route="/readyz",status="503"} 1`)
	assert.Contains(t, w.Body.String(), `route="unmatched",status="404"`)
}

func TestServeFinishesInFlightRequests(t *testing.T) {
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond) // a request that is still running when the stop comes
		_, _ = w.Write([]byte("done"))
	})
	srv := httptest.NewUnstartedServer(h)
	ln := srv.Listener
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- httpx.Serve(ctx, ln, h, slog.New(slog.NewTextHandler(io.Discard, nil))) }()

	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String())
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	<-started
	cancel()
	assert.Equal(t, "done", <-got)
	require.NoError(t, <-served)
}

func TestTrimmedStringTypeErrorIsFieldError(t *testing.T) {
	type body struct {
		Title httpx.TrimmedString `json:"title" binding:"required,max=5" msg:"Title is required"`
	}
	f := newFixture(t)
	f.engine.POST("/api/trim", func(c *gin.Context) {
		var b body
		if err := httpx.BindJSON(c, &b); err != nil {
			httpx.Fail(c, err)
			return
		}
		c.JSON(200, b)
	})
	tests := []struct {
		body   string
		status int
		out    string
	}{
		{`{"title":"  abc  "}`, 200, `{"title":"abc"}`},
		{`{"title":"   "}`, 400, `{"errors":[{"message":"Title is required","field":"title"}]}`},
		{`{"title":12}`, 400, `{"errors":[{"message":"Title is required","field":"title"}]}`},
		{`{"title":"abcdef"}`, 400, `{"errors":[{"message":"Title is required","field":"title"}]}`},
	}
	for _, tt := range tests {
		w := f.do(t, "POST", "/api/trim", strings.NewReader(tt.body), nil)
		assert.Equal(t, tt.status, w.Code, tt.body)
		assert.JSONEq(t, tt.out, w.Body.String(), tt.body)
	}
}
