package aasim

import (
	"net/http"
	"strings"
	"time"
)

// manage is POST /v3/activity/manage: stop_executions stops running
// executions (they end RUN_ABORTED after the bot's StopDelay). An execution
// that already ended is answered 400, which clients must take as done.
func (s *Server) manage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.authorize(w, r); !ok {
		return
	}
	var req struct {
		Stop *struct {
			IDs []string `json:"execution_ids"`
		} `json:"stop_executions"`
	}
	if !s.readJSON(w, r, &req) {
		return
	}
	if req.Stop == nil || len(req.Stop.IDs) == 0 {
		s.writeErr(w, http.StatusBadRequest, "request.invalid", "stop_executions.execution_ids is required")
		return
	}
	s.counters.Inc("activity.manage.stop")
	now := s.now()
	s.mu.Lock()
	var stopped []*deployment
	defer func() {
		s.mu.Unlock()
		for _, d := range stopped {
			s.watchDeployment(d)
		}
	}()
	for _, id := range req.Stop.IDs {
		var d *deployment
		for _, x := range s.deployments {
			if x.executionID() == id {
				d = x
			}
		}
		switch {
		case d == nil || now.Sub(d.created) < d.bot.ListDelay:
			s.writeErr(w, http.StatusNotFound, "execution.not.found", "No execution found with id "+id)
			return
		case d.finished(now):
			s.counters.Inc("activity.manage.stop.finished")
			s.writeErr(w, http.StatusBadRequest, "execution.not.running", "Execution "+id+" is not running")
			return
		case d.stopAt.IsZero():
			d.stopAt = now
			stopped = append(stopped, d)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

func (d *deployment) executionID() string { return d.id + "_" + strings.ReplaceAll(d.id[:18], "-", "") }

// finished: the execution reached a terminal status by now.
func (d *deployment) finished(now time.Time) bool {
	_, progress := d.status(now)
	return progress == 100
}

// Running counts deployments that have not reached a terminal status: the
// runs a cancelled workflow would leave behind.
func (s *Server) Running() int {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, d := range s.deployments {
		if !d.finished(now) {
			n++
		}
	}
	return n
}

// Aborted counts deployments that ended RUN_ABORTED.
func (s *Server) Aborted() int {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, d := range s.deployments {
		if st, _ := d.status(now); st == "RUN_ABORTED" {
			n++
		}
	}
	return n
}

// status is the deployment's status and progress at now.
func (d *deployment) status(now time.Time) (string, int) {
	b := d.bot
	start := d.start()
	end := start.Add(b.Running)
	if !d.stopAt.IsZero() && d.stopAt.Before(end) {
		if now.Sub(d.stopAt) >= b.StopDelay {
			return "RUN_ABORTED", 100
		}
	}
	switch {
	case !now.Before(end) && (d.stopAt.IsZero() || !d.stopAt.Before(end)):
		return b.Final, 100
	case !now.Before(start):
		return "RUNNING", 50
	}
	return "DEPLOYED", 0
}

// StopRequests returns when each deployment (by deployment id) was first
// asked to stop, as the simulator's clock saw it.
func (s *Server) StopRequests() map[string]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]time.Time{}
	for _, d := range s.deployments {
		if !d.stopAt.IsZero() {
			out[d.id] = d.stopAt
		}
	}
	return out
}
