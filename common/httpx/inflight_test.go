package httpx_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/httpx"
)

// A handler that holds its request until release is closed, and counts the
// requests inside it.
type gate struct {
	inside, most atomic.Int32
	entered      chan struct{}
	release      chan struct{}
}

func newGate() *gate {
	return &gate{entered: make(chan struct{}, 100), release: make(chan struct{})}
}

func (g *gate) handle(c *gin.Context) {
	n := g.inside.Add(1)
	for {
		m := g.most.Load()
		if n <= m || g.most.CompareAndSwap(m, n) {
			break
		}
	}
	g.entered <- struct{}{}
	<-g.release
	g.inside.Add(-1)
	c.String(http.StatusOK, "ok")
}

func engineWithGate(t *testing.T, maxInFlight int) (*gin.Engine, *gate) {
	t.Helper()
	e, err := httpx.NewEngine(httpx.Config{Service: "t", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxInFlight: maxInFlight})
	require.NoError(t, err)
	g := newGate()
	e.GET("/api/slow", g.handle)
	return e, g
}

// occupy sends one request into the gate and returns once it is inside;
// its status arrives on the channel once the gate is released.
func occupy(e *gin.Engine, g *gate) <-chan int {
	first := make(chan int, 1)
	go func() {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest("GET", "/api/slow", nil))
		first <- w.Code
	}()
	<-g.entered
	return first
}

func TestMaxInFlight(t *testing.T) {
	tests := []struct {
		name        string
		maxInFlight int
		requests    int
		wantInside  int32
	}{
		{"bounded", 2, 6, 2},
		{"default", 0, httpx.DefaultMaxInFlight + 4, httpx.DefaultMaxInFlight},
		{"unbounded", -1, 20, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, g := engineWithGate(t, tt.maxInFlight)
			done := make(chan int, tt.requests)
			for range tt.requests {
				go func() {
					w := httptest.NewRecorder()
					e.ServeHTTP(w, httptest.NewRequest("GET", "/api/slow", nil))
					done <- w.Code
				}()
			}
			for range tt.wantInside {
				<-g.entered
			}
			// The others stay out while the slots are taken.
			time.Sleep(50 * time.Millisecond)
			assert.Equal(t, tt.wantInside, g.inside.Load())

			// Health is answered while every slot is taken.
			w := httptest.NewRecorder()
			e.ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
			assert.Equal(t, http.StatusOK, w.Code)

			close(g.release)
			for range tt.requests {
				assert.Equal(t, http.StatusOK, <-done, "every waiting request is served in the end")
			}
			assert.Equal(t, tt.wantInside, g.most.Load(), "never more inside than the bound")
		})
	}
}

// A request whose client gives up while waiting never reaches the handler.
func TestMaxInFlightWaiterGivesUp(t *testing.T) {
	e, g := engineWithGate(t, 1)
	first := occupy(e, g)

	ctx, cancel := context.WithCancel(context.Background())
	waiter := make(chan int, 1)
	go func() {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest("GET", "/api/slow", nil).WithContext(ctx))
		waiter <- w.Code
	}()
	cancel()
	assert.Equal(t, 499, <-waiter)
	close(g.release)
	assert.Equal(t, http.StatusOK, <-first)
	assert.Empty(t, g.entered, "the one that gave up never entered")
}

// A request that waits longer than the queue bound is answered 503 with
// Retry-After and the contract's error body, and never reaches the handler.
func TestMaxInFlightQueueTimeout(t *testing.T) {
	e, err := httpx.NewEngine(httpx.Config{Service: "t", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		MaxInFlight: 1, QueueTimeout: 50 * time.Millisecond})
	require.NoError(t, err)
	g := newGate()
	e.GET("/api/slow", g.handle)
	first := occupy(e, g)

	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest("GET", "/api/slow", nil))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	assert.JSONEq(t, `{"errors":[{"message":"Too many requests right now, try again in a moment"}]}`, w.Body.String())
	close(g.release)
	assert.Equal(t, http.StatusOK, <-first)
	assert.Empty(t, g.entered, "the one that timed out never entered")
}

// A request that queued past the server's write timeout still gets its
// answer: the bound renews its deadlines when it lets the request in.
// Without that the server would close the connection after the handler ran.
func TestMaxInFlightWaiterKeepsItsAnswerPastTheWriteTimeout(t *testing.T) {
	e, g := engineWithGate(t, 1)
	srv := httptest.NewUnstartedServer(e)
	srv.Config.WriteTimeout = 300 * time.Millisecond
	srv.Start()
	defer srv.Close()

	first := make(chan error, 1)
	go func() {
		res, err := http.Get(srv.URL + "/api/slow")
		if err == nil {
			res.Body.Close()
		}
		first <- err
	}()
	<-g.entered
	second := make(chan *http.Response, 1)
	go func() {
		res, err := http.Get(srv.URL + "/api/slow")
		assert.NoError(t, err, "the waiter's connection was dropped")
		second <- res
	}()
	// The second waits in the queue well past the write timeout.
	time.Sleep(600 * time.Millisecond)
	close(g.release)
	res := <-second
	require.NotNil(t, res)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "ok", string(body))
	// The first was inside the handler past the timeout too, without renewal:
	// the server drops its answer, as it always has.
	assert.Error(t, <-first)
}
