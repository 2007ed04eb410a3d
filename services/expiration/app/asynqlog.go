package app

import (
	"fmt"
	"log/slog"
	"strings"
)

// asynqLogger sends asynq's own log lines to the service's JSON log.
type asynqLogger struct{ log *slog.Logger }

func (l asynqLogger) Debug(args ...any) { l.log.Debug(text(args)) }
func (l asynqLogger) Info(args ...any)  { l.log.Info(text(args)) }
func (l asynqLogger) Warn(args ...any)  { l.log.Warn(text(args)) }
func (l asynqLogger) Error(args ...any) { l.log.Error(text(args)) }

// Fatal is never called by the asynq server; should a later version do
// so, exiting the process from inside a library is not its call to make,
// so it is logged as an error.
func (l asynqLogger) Fatal(args ...any) { l.log.Error(text(args), "fatal", true) }

func text(args []any) string {
	return strings.TrimSpace(fmt.Sprint(args...))
}
