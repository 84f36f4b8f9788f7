// Package logging builds rpaflow's zerolog logger, whose output is redacted
// at the writer so every line, including the Temporal SDK's, is covered.
package logging

import (
	"io"
	"log/slog"

	"github.com/rs/zerolog"
	"go.temporal.io/sdk/log"
)

// New returns a logger writing JSON lines to w (console format when format is
// "console") at the given level (info when unknown), with secrets redacted.
func New(w io.Writer, level, format string, secrets []string) zerolog.Logger {
	out := NewRedactor(secrets).Writer(w)
	if format == "console" {
		// The console writer formats first and then writes to out, so the
		// redactor sees the final text.
		out = zerolog.ConsoleWriter{Out: out, NoColor: true, TimeFormat: "15:04:05.000"}
	}
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		lvl = zerolog.InfoLevel
	}
	return zerolog.New(out).Level(lvl).With().Timestamp().Logger()
}

// TemporalLogger adapts l to the Temporal SDK's logger interface.
func TemporalLogger(l zerolog.Logger) log.Logger {
	return log.NewStructuredLogger(slog.New(zerolog.NewSlogHandler(l)))
}
