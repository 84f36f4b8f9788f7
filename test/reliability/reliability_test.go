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
		// The cases mostly wait on timeouts, so they all run at once
		// whatever -parallel is (t.Run may be called from several goroutines).
		var wg sync.WaitGroup
		for _, c := range []struct {
			name string
			fn   func(*testing.T)
		}{
			{"WorkerKilled", testWorkerKilled},
			{"PlatformOutage", testPlatformOutage},
			{"ServerRestart", testServerRestart},
			{"BadInput", testBadInput},
			{"CancelMany", testCancelMany},
			{"KillDuringStop", testKillDuringStop},
			{"PoolWorkerKilled", testPoolWorkerKilled},
			{"PoolServerRestart", testPoolServerRestart},
			{"EventsWorkerKilled", testEventsWorkerKilled},
			{"Hostile", testHostile},
			{"HostileCodec", testHostileCodec},
		} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t.Run(c.name, c.fn)
			}()
		}
		wg.Wait()
	})
	t.Run("Secrets", testSecrets)
}
