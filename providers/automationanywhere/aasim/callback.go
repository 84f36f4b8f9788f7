package aasim

import (
	"encoding/json"
	"time"

	"github.com/rpaflow/rpaflow/providers/simkit"
)

// callbackInfo is a deploy's callbackInfo.
type callbackInfo struct {
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
}

// Deliveries is the callback sender: its faults (drop, duplicate, delay,
// reorder, a receiver outage) and counters. The Control Room documents no
// retry and no breaker for callbacks; the simulator sends each once.
func (s *Server) Deliveries() *simkit.Deliverer { return s.deliver }

// watchDeployment schedules a look at d when it may next end; the look
// posts its callback once: {"deploymentId","status","botOutVariables"}.
func (s *Server) watchDeployment(d *deployment) {
	s.mu.Lock()
	cb := d.callback
	due := d.nextChange(s.now())
	s.mu.Unlock()
	if cb == nil || cb.URL == "" {
		return
	}
	s.deliver.At(due, func(now time.Time) []simkit.Delivery {
		s.mu.Lock()
		if !d.finished(now) {
			s.mu.Unlock()
			s.watchDeployment(d)
			return nil
		}
		defer s.mu.Unlock()
		if d.notified {
			return nil
		}
		d.notified = true
		status, _ := d.status(now)
		body := map[string]any{"deploymentId": d.id, "status": status, "automationName": d.name}
		if item := d.item(now); item != nil {
			if out, ok := item["botOutVariables"]; ok {
				body["botOutVariables"] = out
			}
		}
		b, _ := json.Marshal(body)
		return []simkit.Delivery{{URL: cb.URL, Headers: cb.Headers, Body: b}}
	})
}

// nextChange is when d may next change: its end, or the end of its stop.
func (d *deployment) nextChange(now time.Time) time.Time {
	at := d.created.Add(d.bot.Deployed + d.bot.Running)
	if !d.stopAt.IsZero() && d.stopAt.Add(d.bot.StopDelay).Before(at) {
		at = d.stopAt.Add(d.bot.StopDelay)
	}
	if !at.After(now) {
		at = now.Add(200 * time.Millisecond)
	}
	return at
}

// DeploymentEnd returns when deployment id ended on the Control Room's
// clock (zero: it has not, or there is no such deployment).
func (s *Server) DeploymentEnd(id string) time.Time {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.deployments {
		if d.id == id && d.finished(now) {
			end := d.created.Add(d.bot.Deployed + d.bot.Running)
			if !d.stopAt.IsZero() && d.stopAt.Add(d.bot.StopDelay).Before(end) {
				end = d.stopAt.Add(d.bot.StopDelay)
			}
			return end
		}
	}
	return time.Time{}
}
