package httpx

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/common/errs"
)

// RequestIDHeader carries the request id in and out.
const RequestIDHeader = "X-Request-Id"

func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(RequestIDHeader)
		if !validRequestID(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Header(RequestIDHeader, id)
		c.Set(RequestIDHeader, id)
		c.Next()
	}
}

// validRequestID keeps ids from the ingress but refuses anything that could
// forge log lines.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r == '-' || r == '_' || r == '.' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')) {
			return false
		}
	}
	return true
}

func accessLog(base *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		lg := base.With("request_id", c.GetString(RequestIDHeader))
		c.Set(loggerKey, lg)
		c.Next()
		level := slog.LevelInfo
		switch c.Request.URL.Path {
		case "/healthz", "/readyz", "/metrics":
			level = slog.LevelDebug // probes every few seconds would drown the log
		}
		// The query string is left out on purpose: it is the caller's, and may hold anything.
		lg.Log(c, level, "http request",
			"method", c.Request.Method,
			"path", c.Request.URL.Path,
			"route", c.FullPath(),
			"status", c.Writer.Status(),
			"bytes", c.Writer.Size(),
			"duration_ms", float64(time.Since(start).Microseconds())/1000,
			"ip", c.ClientIP(),
		)
	}
}

func recoverer(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if rec == http.ErrAbortHandler { //nolint:errorlint // a sentinel value, compared as net/http does
				panic(rec)
			}
			Logger(c).Error("panic in handler", "panic", rec, "stack", string(debug.Stack()))
			if !c.Writer.Written() {
				Fail(c, &errs.Error{Kind: errs.KindInternal, Message: "panic"})
			}
			c.Abort()
		}()
		c.Next()
	}
}

func limitBody(max int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > max {
			Fail(c, errs.ErrTooLarge)
			return
		}
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, max)
		}
		c.Next()
	}
}

// limitInFlight lets at most n requests into the handlers at once; the rest
// wait for a slot, at most queueTimeout (then 503 with Retry-After), or until
// their client gives up.
//
// A request that waited gets the server's read and write time afresh once it
// is let in (handlerTime): the server's own deadlines run from the request's
// arrival, and one that passed while it queued would make the server drop
// the connection after the handler had done its work, a change the client
// never hears of.
func limitInFlight(n int, queueTimeout time.Duration) gin.HandlerFunc {
	slots := make(chan struct{}, n)
	return func(c *gin.Context) {
		select {
		case slots <- struct{}{}:
		default:
			timer := time.NewTimer(queueTimeout)
			defer timer.Stop()
			select {
			case slots <- struct{}{}:
				renewDeadlines(c.Writer)
			case <-timer.C:
				renewDeadlines(c.Writer)
				c.Header("Retry-After", "1")
				Fail(c, errs.ErrBusy)
				c.Abort()
				return
			case <-c.Request.Context().Done():
				// Nobody is left to answer; the access log shows the 499.
				c.AbortWithStatus(499)
				return
			}
		}
		defer func() { <-slots }()
		c.Next()
	}
}

// renewDeadlines gives the request the server's read and write time from
// now.
func renewDeadlines(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	deadline := time.Now().Add(handlerTime)
	// Not every ResponseWriter has a connection (tests' recorders).
	_ = rc.SetReadDeadline(deadline)
	_ = rc.SetWriteDeadline(deadline)
}

// isTooLarge reports whether a body read failed because of the size limit.
func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}
