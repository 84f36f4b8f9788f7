package activities_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/activities"
)

// Observe hears of each call the budget lets through, with how long it
// queued; refused calls are not reported.
func TestBudgetObserve(t *testing.T) {
	var mu sync.Mutex
	waits := map[string][]time.Duration{}
	b := &activities.Budget{PerMinute: 600, Observe: func(_ context.Context, profile string, waited time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		waits[profile] = append(waits[profile], waited)
	}}
	ctx := context.Background()
	for range 3 {
		if err := b.Wait(ctx, "orch"); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Wait(ctx, "cr"); err != nil {
		t.Fatal(err)
	}
	// 600 a minute is one per 100 ms: the 2nd and 3rd calls queue ~100 ms each.
	if len(waits["orch"]) != 3 || len(waits["cr"]) != 1 {
		t.Fatalf("observed %v, want 3 orch and 1 cr", waits)
	}
	if waits["orch"][0] > 50*time.Millisecond || waits["orch"][2] < 60*time.Millisecond {
		t.Errorf("orch waits %v: the first call should pass at once, the third queue about 100 ms", waits["orch"])
	}

	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := b.Wait(short, "orch"); err == nil {
		t.Fatal("a call that cannot fit its deadline passed")
	}
	if len(waits["orch"]) != 3 {
		t.Errorf("a refused call was observed: %v", waits["orch"])
	}
}
