package gate

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestGateCountsAndPassesBodiesOn(t *testing.T) {
	var seen []string
	g := New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen = append(seen, string(b))
	}), "key")
	post := func(path, body string) {
		g.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
	}
	post("/v2/authentication", `{"username":"u1"}`)
	post("/v1/authentication", `{"username":"u1"}`)
	post("/hotbot/run", `{"botInput":{"key":{"type":"STRING","string":"k1"}}}`)
	post("/hotbot/run", `{"botInput":{"other":{"type":"STRING","string":"k1"}}}`)
	if got := g.Logins("u1"); got != 2 {
		t.Errorf("Logins(u1) = %d, want 2", got)
	}
	if got := g.Executions("k1"); got != 1 {
		t.Errorf("Executions(k1) = %d, want 1 (only the input key counts)", got)
	}
	if len(seen) != 4 || seen[0] != `{"username":"u1"}` {
		t.Errorf("the simulator saw %q, want every body unchanged", seen)
	}
}

func TestGateHoldsRefreshesUntilReleased(t *testing.T) {
	passed := make(chan struct{}, 1)
	g := New(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { passed <- struct{}{} }), "key")
	g.HoldRefresh.Store(true)
	go g.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/v1/authentication/token", nil))
	deadline := time.Now().Add(5 * time.Second)
	for g.RefreshesHeld() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the refresh was never held")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case <-passed:
		t.Fatal("a held refresh reached the simulator")
	case <-time.After(200 * time.Millisecond):
	}
	g.HoldRefresh.Store(false)
	select {
	case <-passed:
	case <-time.After(5 * time.Second):
		t.Fatal("the released refresh never reached the simulator")
	}
}
