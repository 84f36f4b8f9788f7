// Package gate sits in front of the platform simulators in the suites that
// break things (reliability, cluster): it counts Control Room logins and API
// Task executions as they reach the platform, whatever happens to the
// answer, and can hold token refreshes so a fault lands mid-refresh.
package gate

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rpaflow/rpaflow/contract/botvalue"
)

// Gate is an http.Handler in front of a simulator.
type Gate struct {
	next     http.Handler
	inputKey string
	// HoldRefresh, while set, holds Control Room token refreshes (up to two
	// minutes) instead of passing them on.
	HoldRefresh     atomic.Bool
	refreshInFlight atomic.Int32
	executeInFlight atomic.Int32
	mu              sync.Mutex
	logins          map[string]int
	executions      map[string]int
	gather          *gathering
}

// gathering holds API Task executions until n are in flight.
type gathering struct {
	n, arrived int
	max        time.Duration
	all        chan struct{}
}

// New is a gate in front of next that tells API Task executions apart by
// their bot input variable inputKey.
func New(next http.Handler, inputKey string) *Gate {
	return &Gate{next: next, inputKey: inputKey, logins: map[string]int{}, executions: map[string]int{}}
}

func (g *Gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	post := r.Method == http.MethodPost
	switch {
	case post && strings.HasSuffix(p, "/authentication/token") && g.HoldRefresh.Load():
		g.refreshInFlight.Add(1)
		defer g.refreshInFlight.Add(-1)
		deadline := time.After(2 * time.Minute)
		for g.HoldRefresh.Load() {
			select {
			case <-r.Context().Done():
				return // the caller is gone: the refresh never reaches the platform
			case <-deadline:
				http.Error(w, "held too long", http.StatusServiceUnavailable)
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	case post && (p == "/v1/authentication" || p == "/v2/authentication"):
		if u := readBody(r).Username; u != "" {
			g.add(g.logins, u)
		}
	case post && strings.HasPrefix(p, "/hotbot/"):
		if k := readBody(r).BotInput[g.inputKey].String; k != "" {
			g.add(g.executions, k)
		}
		g.executeInFlight.Add(1)
		defer g.executeInFlight.Add(-1)
		if !g.gathered(r) {
			return // the caller is gone: the execution never reaches the platform
		}
	}
	g.next.ServeHTTP(w, r)
}

// Gather holds each API Task execution at the gate until n are in flight
// at once (or max has passed since it arrived), then lets them all on to
// the platform, so they run side by side however far apart their
// workflows got there. Later executions pass at once.
func (g *Gate) Gather(n int, max time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gather = &gathering{n: n, max: max, all: make(chan struct{})}
}

// Gathered is how many API Task executions reached the gate since Gather.
func (g *Gate) Gathered() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gather == nil {
		return 0
	}
	return g.gather.arrived
}

// gathered waits for the gathering, if any; false if the caller went away.
func (g *Gate) gathered(r *http.Request) bool {
	g.mu.Lock()
	h := g.gather
	if h == nil {
		g.mu.Unlock()
		return true
	}
	if h.arrived++; h.arrived == h.n {
		close(h.all)
	}
	g.mu.Unlock()
	t := time.NewTimer(h.max)
	defer t.Stop()
	select {
	case <-h.all:
	case <-t.C:
	case <-r.Context().Done():
		return false
	}
	return true
}

type body struct {
	Username string                    `json:"username"`
	BotInput map[string]botvalue.Value `json:"botInput"`
}

// readBody decodes what the gate counts and leaves the body for next.
func readBody(r *http.Request) body {
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = io.NopCloser(bytes.NewReader(raw))
	var b body
	_ = json.Unmarshal(raw, &b)
	return b
}

func (g *Gate) add(m map[string]int, k string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	m[k]++
}

// Executions is how many API Task executions with input key reached the platform.
func (g *Gate) Executions(key string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.executions[key]
}

// Logins is how many times user logged in to Control Room.
func (g *Gate) Logins(user string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.logins[user]
}

// ExecutionsInFlight is how many API Task executions the platform is running now.
func (g *Gate) ExecutionsInFlight() int { return int(g.executeInFlight.Load()) }

// RefreshesHeld is how many token refreshes HoldRefresh is holding now.
func (g *Gate) RefreshesHeld() int { return int(g.refreshInFlight.Load()) }
