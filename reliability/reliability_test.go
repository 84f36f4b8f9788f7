package reliability

import (
	"sync"
	"testing"
)

// afterScan holds what must outlive the cases until the secrets scan (the
// restart case's own Temporal server).
var afterScan struct {
	sync.Mutex
	fns []func()
}

func keepUntilScan(fn func()) {
	afterScan.Lock()
	defer afterScan.Unlock()
	afterScan.fns = append(afterScan.fns, fn)
}

// TestReliability runs the cases side by side, then scans everything they
// left behind for secrets.
func TestReliability(t *testing.T) {
	if shared == nil {
		t.Skip("no Temporal dev server (run `make test` or `make test-reliability`)")
	}
	t.Cleanup(func() {
		afterScan.Lock()
		defer afterScan.Unlock()
		for _, fn := range afterScan.fns {
			fn()
		}
	})
	t.Run("cases", func(t *testing.T) {
		t.Run("WorkerKilled", func(t *testing.T) { t.Parallel(); testWorkerKilled(t) })
		t.Run("PlatformOutage", func(t *testing.T) { t.Parallel(); testPlatformOutage(t) })
		t.Run("ServerRestart", func(t *testing.T) { t.Parallel(); testServerRestart(t) })
		t.Run("BadInput", func(t *testing.T) { t.Parallel(); testBadInput(t) })
	})
	t.Run("Secrets", testSecrets)
}
