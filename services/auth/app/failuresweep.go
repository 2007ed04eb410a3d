package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/ticketing/services/auth/internal/store"
)

// failureSweep deletes, once per window, the sign-in failure records that
// no longer limit anyone (store.Failures.ForgetBefore). Every copy of the
// service sweeps; a second sweep of the same records deletes nothing.
type failureSweep struct {
	failures *store.Failures
	window   time.Duration
	every    time.Duration
	log      *slog.Logger
}

// Run sweeps until ctx ends; a failed sweep is logged and tried again at
// the next tick.
func (s failureSweep) Run(ctx context.Context) error {
	ticker := time.NewTicker(s.every)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
			n, err := s.failures.ForgetBefore(ctx, time.Now().Add(-s.window))
			switch {
			case err != nil && ctx.Err() == nil:
				s.log.Warn("sweep of old sign-in failures failed; trying again later", "err", err)
			case n > 0:
				s.log.Debug("forgot old sign-in failures", "records", n)
			}
		}
	}
}
