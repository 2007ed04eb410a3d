package httpx

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ticketing/common/errs"
)

// Check is one dependency /readyz asks: the database, NATS.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

const readyTimeout = 2 * time.Second

func health(e *gin.Engine, checks []Check, reg *prometheus.Registry) {
	e.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	e.GET("/readyz", func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c, readyTimeout)
		defer cancel()
		var failed []errs.FieldError
		for _, ch := range checks {
			if err := ch.Fn(ctx); err != nil {
				Logger(c).Warn("not ready", "check", ch.Name, "error", err.Error())
				failed = append(failed, errs.FieldError{Message: ch.Name + " is not ready"})
			}
		}
		if len(failed) > 0 {
			c.AbortWithStatusJSON(http.StatusServiceUnavailable, errs.Body{Errors: failed})
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "ready"})
	})
	e.GET("/metrics", gin.WrapH(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
}
