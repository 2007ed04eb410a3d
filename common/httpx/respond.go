package httpx

import (
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/common/errs"
)

// loggerKey holds the request's logger (with its request id) in the gin context.
const loggerKey = "httpx.logger"

// Logger returns the request-scoped logger.
func Logger(c *gin.Context) *slog.Logger {
	if l, ok := c.Get(loggerKey); ok {
		if lg, ok := l.(*slog.Logger); ok {
			return lg
		}
	}
	return slog.Default()
}

// Fail answers with the contract's error body for err. Our own faults are
// logged with their details, which never reach the caller.
func Fail(c *gin.Context, err error) {
	status, body := errs.Response(err)
	if errs.IsInternal(err) {
		Logger(c).Error("request failed", "error", err.Error(), "route", c.FullPath())
	}
	c.AbortWithStatusJSON(status, body)
}
