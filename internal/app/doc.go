// Package app runs the standalone worker process: metrics, tracing, the
// Temporal client from the configuration, rpaflow's plugin on it, the HTTP
// side (/healthz, /metrics, /codec) and a graceful stop. worker/main.go is
// its only caller; tests run it in-process.
package app
