// Command worker runs rpaflow's standalone Temporal worker: configuration
// from the environment, rpaflow's plugin on its client (a platform client
// per profile, every workflow and activity, the Nexus service), /healthz
// and /metrics on RPAFLOW_HTTP_ADDR, /codec on RPAFLOW_CODEC_ADDR and the
// events receiver on RPAFLOW_EVENTS_ADDR when set. The logic lives in
// internal/app.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/rpaflow/rpaflow/internal/app"
	"github.com/rpaflow/rpaflow/internal/config"
	"github.com/rpaflow/rpaflow/internal/logging"
)

func main() {
	cfg, err := config.Load()
	if err != nil {
		fmt.Fprintf(os.Stderr, "rpaflow worker: configuration problems:\n%v\n", err)
		os.Exit(2)
	}
	logger := logging.New(os.Stderr, cfg.LogLevel, cfg.LogFormat, cfg.Secrets())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.RunWorker(ctx, cfg, logger, app.WorkerOptions{}); err != nil {
		logger.Error().Err(err).Msg("worker failed")
		os.Exit(1)
	}
}
