package boot

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/ticketing/common/httpx"
)

// Serve listens on port (0 takes any free one) and serves h through
// httpx.Serve until ctx ends, then lets in-flight requests finish. Its
// "listening" log line carries the real address.
func Serve(ctx context.Context, port int, h http.Handler, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
	if err != nil {
		return fmt.Errorf("listen on port %d: %w", port, err)
	}
	return httpx.Serve(ctx, ln, h, logger)
}
