package aasim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/rpaflow/rpaflow/contract/botvalue"
)

// accessDetails mints a task token and an execution URL per known path and
// puts unknown paths in "errors".
func (s *Server) accessDetails(w http.ResponseWriter, r *http.Request) {
	s.counters.Inc("accessdetails")
	user, ok := s.authorize(w, r)
	if !ok {
		return
	}
	var req struct {
		Paths json.RawMessage `json:"botRepositoryPath"`
	}
	if !s.readJSON(w, r, &req) {
		return
	}
	// Documented as a String, shown as an array: take both.
	var paths []string
	if err := json.Unmarshal(req.Paths, &paths); err != nil {
		var one string
		if json.Unmarshal(req.Paths, &one) != nil || one == "" {
			s.writeErr(w, http.StatusBadRequest, "request.invalid", "botRepositoryPath must be an array of repository paths")
			return
		}
		paths = []string{one}
	}
	if len(paths) == 0 {
		s.writeErr(w, http.StatusBadRequest, "request.invalid", "botRepositoryPath must name at least one API Task")
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	details := map[string]any{}
	errs := map[string]any{}
	s.mu.Lock()
	for _, p := range paths {
		task := s.taskByPath(p)
		if task == nil {
			errs[p] = map[string]string{"code": "hotbot.allocation.not.found",
				"message": "No API Task allocation found for this repository path"}
			continue
		}
		tok := s.mint(&tokenInfo{userID: user.userID, multi: true, task: true, fileID: task.FileID}, s.opts.TaskTokenLifetime)
		details[p] = map[string]any{
			"url":     fmt.Sprintf("%s://%s/hotbot/%d/execute", scheme, r.Host, task.FileID),
			"headers": map[string]string{"X-Authorization": tok},
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"accessDetails": details, "errors": errs})
}

func (s *Server) taskByPath(p string) *APITask {
	for i := range s.opts.APITasks {
		if s.opts.APITasks[i].Path == p {
			return &s.opts.APITasks[i]
		}
	}
	return nil
}

// execute runs an API Task synchronously.
func (s *Server) execute(w http.ResponseWriter, r *http.Request) {
	s.counters.Inc("execute")
	fileID, _ := strconv.Atoi(r.PathValue("fileId"))
	var task *APITask
	for i := range s.opts.APITasks {
		if s.opts.APITasks[i].FileID == fileID {
			task = &s.opts.APITasks[i]
		}
	}
	if task == nil {
		s.writeErr(w, http.StatusNotFound, "not.found", "no API Task is deployed at this URL")
		return
	}
	tok := r.Header.Get("X-Authorization")
	if tok == "" {
		s.writeErr(w, http.StatusUnauthorized, "UM1117", "Access token expected in the 'X-Authorization' header")
		return
	}
	s.mu.Lock()
	info := s.lookup(tok)
	s.mu.Unlock()
	if info == nil || !info.task || info.fileID != fileID {
		s.writeErr(w, http.StatusUnauthorized, "auth.token.invalid", "The task token is invalid or has expired; fetch new access details")
		return
	}
	var req struct {
		BotInput map[string]botvalue.Value `json:"botInput"`
	}
	if !s.readJSON(w, r, &req) {
		return
	}
	for _, name := range sortedNames(req.BotInput) {
		if !slices.Contains(task.Inputs, name) {
			s.writeErr(w, http.StatusBadRequest, "hotbot.input.unknown",
				fmt.Sprintf("%q is not an input variable of this API Task", name))
			return
		}
	}

	s.mu.Lock()
	if s.inflight[fileID] >= task.ConcurrencyLimit || s.opts.APITaskSessions > 0 && s.sessions >= s.opts.APITaskSessions {
		s.mu.Unlock()
		s.counters.Inc("execute.rejected")
		w.Header().Set("Retry-After", "1")
		s.writeErr(w, http.StatusTooManyRequests, "hotbot.concurrency.limit", "concurrency limit reached")
		return
	}
	s.inflight[fileID]++
	s.sessions++
	s.peak = max(s.peak, s.sessions)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inflight[fileID]--
		s.sessions--
		s.mu.Unlock()
	}()

	if task.Latency > 0 {
		t := time.NewTimer(task.Latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
	}
	out := req.BotInput
	if task.Run != nil {
		var err error
		if out, err = task.Run(req.BotInput); err != nil {
			s.writeErr(w, http.StatusInternalServerError, "hotbot.execution.failed", err.Error())
			return
		}
	}
	if out == nil {
		out = map[string]botvalue.Value{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"hotBotResult": map[string]any{"botOutput": out}})
}

func sortedNames(m map[string]botvalue.Value) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}
