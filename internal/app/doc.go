// Package app runs the standalone worker process: metrics, tracing, the
// Temporal client from the configuration, rpaflow's plugin on it (the
// worker is a host like any other), the HTTP side (/healthz, /metrics,
// /codec, the events receiver) and a graceful stop. worker/main.go is
// its only caller; tests run it in-process.
package app
