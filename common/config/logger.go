package config

import (
	"io"
	"log/slog"
	"strings"
)

// Logger is the JSON logger every process writes to stdout; LOG_LEVEL picks
// debug, info (default), warn or error.
func Logger(w io.Writer, service, level string) *slog.Logger {
	var l slog.Level
	switch strings.ToLower(level) {
	case "debug":
		l = slog.LevelDebug
	case "warn", "warning":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})).With("service", service)
}
