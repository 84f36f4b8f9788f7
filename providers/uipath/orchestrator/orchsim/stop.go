package orchsim

import (
	"encoding/json"
	"net/http"
	"time"
)

// stopAt is when a stop request ends the job Stopped (zero: it does not,
// because none came before the job ended or the robot ignores SoftStop).
// Kill acts at once; SoftStop after the release's StopDelay.
func (j *jobState) stopAt(ended time.Time) time.Time {
	var at time.Time
	if !j.killed.IsZero() && j.killed.Before(ended) {
		at = j.killed
	}
	if !j.softStop.IsZero() && !j.release.IgnoreSoftStop {
		delay := j.release.StopDelay
		if delay <= 0 {
			delay = 2 * time.Second
		}
		if s := j.softStop.Add(delay); s.Before(ended) && (at.IsZero() || s.Before(at)) {
			at = s
		}
	}
	return at
}

// stopping: a SoftStop was asked for and the job has not ended yet.
func (j *jobState) stopping(now, ended time.Time) bool {
	return !j.softStop.IsZero() && !now.Before(j.softStop) && now.Before(ended)
}

// stopJobs is POST /odata/Jobs/UiPath.Server.Configuration.OData.StopJobs:
// {"strategy":"SoftStop"|"Kill","jobIds":[…]}, answered 200 without content.
func (s *Server) stopJobs(req *request) {
	f, ok := s.folder(req)
	if !ok {
		return
	}
	var body struct {
		Strategy string  `json:"strategy"`
		JobIDs   []int64 `json:"jobIds"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(req.w, req.r.Body, 1<<20)).Decode(&body); err != nil {
		writeError(req.w, http.StatusBadRequest, 1000, "Invalid request! The body must be {\"strategy\",\"jobIds\"}.")
		return
	}
	strategy, ok := oneOf(body.Strategy, []string{"SoftStop", "Kill"})
	if !ok || len(body.JobIDs) == 0 {
		writeError(req.w, http.StatusBadRequest, 1000, "strategy (SoftStop or Kill) and jobIds are required.")
		return
	}
	now := s.clock.Now()
	s.mu.Lock()
	for _, id := range body.JobIDs {
		if j, ok := s.jobs[id]; !ok || j.folder != f {
			s.mu.Unlock()
			writeError(req.w, http.StatusNotFound, 1002, "Job does not exist.")
			return
		}
	}
	var stopped []*jobState
	defer func() {
		s.mu.Unlock()
		for _, j := range stopped {
			s.watchJob(j)
		}
	}()
	for _, id := range body.JobIDs {
		j := s.jobs[id]
		s.counters.Inc("stopJobs." + strategy)
		switch {
		case strategy == "Kill" && j.killed.IsZero():
			j.killed = now
		case strategy == "SoftStop" && j.softStop.IsZero():
			j.softStop = now
		}
		stopped = append(stopped, j)
	}
	req.w.WriteHeader(http.StatusOK)
}

// Running counts jobs that have not reached a final state: the runs a
// cancelled workflow would leave behind.
func (s *Server) Running() int {
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, j := range s.jobs {
		if st, _, _ := j.at(now); !isFinal(st) {
			n++
		}
	}
	return n
}

// JobState is job id's state now ("" when there is no such job).
func (s *Server) JobState(id int64) string {
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok {
		return ""
	}
	st, _, _ := j.at(now)
	return st
}
