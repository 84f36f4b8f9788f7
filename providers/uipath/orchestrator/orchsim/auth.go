package orchsim

import (
	"net/http"
	"slices"
	"strings"
)

// endpointScopes is the reference's per-endpoint scope table: either scope
// admits the call.
var endpointScopes = map[string][2]string{
	"folders":        {"OR.Folders", "OR.Folders.Read"},
	"releases":       {"OR.Execution", "OR.Execution.Read"},
	"startJobs":      {"OR.Jobs", "OR.Jobs.Write"},
	"job.get":        {"OR.Jobs", "OR.Jobs.Read"},
	"jobs.list":      {"OR.Jobs", "OR.Jobs.Read"},
	"addQueueItem":   {"OR.Queues", "OR.Queues.Write"},
	"stopJobs":       {"OR.Jobs", "OR.Jobs.Write"},
	"queueItem":      {"OR.Queues", "OR.Queues.Read"},
	"queueItems":     {"OR.Queues", "OR.Queues.Read"},
	"webhooks.read":  {"OR.Webhooks", "OR.Webhooks.Read"},
	"webhooks.write": {"OR.Webhooks", "OR.Webhooks.Write"},
}

// authorize checks the bearer token and its scope for op, answering 401 or
// 403 itself when they fail.
func (s *Server) authorize(req *request, op string) bool {
	h := req.r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(strings.TrimSpace(h), " ")
	tok = strings.TrimSpace(tok)
	if h == "" || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		s.unauthenticated(req.w, "Bearer")
		return false
	}
	s.mu.Lock()
	info, ok := s.tokens[tok]
	s.mu.Unlock()
	if !ok || !s.clock.Now().Before(info.expiry) {
		s.unauthenticated(req.w, `Bearer error="invalid_token"`)
		return false
	}
	if info.user {
		return true
	}
	want := endpointScopes[op]
	if slices.Contains(info.scopes, want[0]) || slices.Contains(info.scopes, want[1]) {
		return true
	}
	s.counters.Inc("http.403")
	writeError(req.w, http.StatusForbidden, 0, "You are not authorized!")
	return false
}

func (s *Server) unauthenticated(w http.ResponseWriter, challenge string) {
	s.counters.Inc("http.401")
	w.Header().Set("WWW-Authenticate", challenge)
	writeError(w, http.StatusUnauthorized, 0, "You are not authenticated!")
}
