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
	first := make(chan int, 1)
	go func() {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest("GET", "/api/slow", nil))
		first <- w.Code
	}()
	<-g.entered

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
