// Command simulator serves the Automation Anywhere Control Room, UiPath
// Orchestrator (with its identity server) and Automation Hub simulators on
// one port, for the local stack and docker-compose. The platforms' paths do
// not overlap, so one listener routes by path.
//
// Usage:
//
//	simulator [-addr 127.0.0.1:8090] [-aa-token-lifetime 20m] [-print-env]
//
// -print-env prints the RPAFLOW_* variables of a worker that uses the
// simulator's demo credentials, and exits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rpaflow/rpaflow/internal/simenv"
)

func main() {
	addr := flag.String("addr", envOr("RPAFLOW_SIM_ADDR", "127.0.0.1:8090"), "listen address (env RPAFLOW_SIM_ADDR)")
	aaLife := flag.Duration("aa-token-lifetime", 20*time.Minute, "Control Room token lifetime")
	orchLife := flag.Duration("uipath-token-lifetime", time.Hour, "Orchestrator token lifetime (expires_in)")
	printEnv := flag.Bool("print-env", false, "print the worker environment for the demo profiles and exit")
	public := flag.String("public-url", "", "URL workers use to reach the simulator (default http://<addr>)")
	flag.Parse()

	base := *public
	if base == "" {
		base = "http://" + *addr
	}
	if *printEnv {
		for _, kv := range simenv.WorkerEnv(base) {
			fmt.Println(kv)
		}
		return
	}
	sims := simenv.New(simenv.Options{AATokenLifetime: *aaLife, OrchestratorTokenLifetime: *orchLife})
	srv := &http.Server{Addr: *addr, Handler: sims, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Printf("simulators on %s: Automation Anywhere at /, UiPath Orchestrator at /%s/%s/orchestrator_/, Automation Hub at %s",
		base, simenv.Organization, simenv.Tenant, simenv.HubPath)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
