// Command starter starts, queries and updates rpaflow's workflows for humans
// and scripts. Run `starter --help` for commands, flags and exit codes; the
// logic lives in package starter/cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/rs/zerolog"
	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/internal/config"
	"github.com/rpaflow/rpaflow/internal/logging"
	"github.com/rpaflow/rpaflow/internal/temporalclient"
	"github.com/rpaflow/rpaflow/starter/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	r := &cli.Runner{
		Stdin:   os.Stdin,
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Env:     environ(),
		Connect: connect,
	}
	code := r.Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// connect builds the client as the worker's is built: the same connection
// and logger, and the converters the plugin gives the worker's client (the
// same function builds both), so the starter reads and writes the same
// payloads.
func connect(ctx context.Context, cfg *config.Config, logger zerolog.Logger) (cli.Conn, error) {
	opts, err := temporalclient.Options(cfg, logging.TemporalLogger(logger), client.MetricsNopHandler)
	if err != nil {
		return cli.Conn{}, err
	}
	c, err := temporalclient.Dial(ctx, opts, logger)
	if err != nil {
		return cli.Conn{}, err
	}
	return cli.Conn{Client: c, Schedules: c.ScheduleClient(), DataConverter: opts.DataConverter, Close: c.Close}, nil
}

func environ() map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return env
}
