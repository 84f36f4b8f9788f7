package activities

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"

	"github.com/rpaflow/rpaflow/providers/apierror"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator"
)

// jobReads coalesces the one-off job reads (OrchCheckJob) of this worker:
// the read that gets a budget permit first also reads every other job of
// the same folder still waiting for one, in one call, so jobs that end
// together cost one call of the tenant's budget, not one each.
type jobReads struct {
	mu      sync.Mutex
	waiting map[jobFolder][]*jobRead
}

type jobFolder struct {
	profile string
	id      int64
	path    string
}

type jobRead struct {
	id     int64
	urgent bool
	stop   context.CancelFunc // ends its budget wait once another read took it
	taken  bool
	done   chan struct{}
	job    orchestrator.Job
	err    error
}

func (j *jobReads) add(k jobFolder, r *jobRead) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.waiting == nil {
		j.waiting = map[jobFolder][]*jobRead{}
	}
	j.waiting[k] = append(j.waiting[k], r)
}

// take removes r from the waiting reads and, when r got its permit (ok),
// takes along the other waiting reads of its folder, urgent ones first.
// mine is false when another read took r already: its result comes on
// r.done.
func (j *jobReads) take(k jobFolder, r *jobRead, ok bool) (batch []*jobRead, mine bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if r.taken {
		return nil, false
	}
	rest := slices.DeleteFunc(j.waiting[k], func(x *jobRead) bool { return x == r })
	if !ok {
		j.waiting[k] = rest
		return nil, true
	}
	batch = []*jobRead{r}
	for _, urgent := range []bool{true, false} {
		rest = slices.DeleteFunc(rest, func(x *jobRead) bool {
			if x.urgent != urgent || len(batch) >= orchestrator.MaxJobsPerRead {
				return false
			}
			x.taken = true
			x.stop()
			batch = append(batch, x)
			return true
		})
	}
	if len(rest) == 0 {
		delete(j.waiting, k)
	} else {
		j.waiting[k] = rest
	}
	return batch, true
}

// readJobs reads the batch's jobs with one call (by Id for one job) and
// gives each read its job or error.
func (a *Orchestrator) readJobs(ctx context.Context, k jobFolder, batch []*jobRead) {
	defer func() {
		for _, r := range batch[1:] {
			close(r.done)
		}
	}()
	c, err := a.Registry.Orchestrator(k.profile)
	if err != nil {
		for _, r := range batch {
			r.err = err
		}
		return
	}
	f := orchestrator.Folder{ID: k.id, FullyQualifiedName: k.path}
	var ids []int64
	for _, r := range batch {
		if !slices.Contains(ids, r.id) {
			ids = append(ids, r.id)
		}
	}
	var jobs []orchestrator.Job
	err = a.withToken(ctx, k.profile, func(token string) error {
		if len(ids) == 1 {
			job, err := c.Job(ctx, token, f, ids[0])
			jobs = []orchestrator.Job{job}
			return err
		}
		var err error
		jobs, err = c.JobsByID(ctx, token, f, ids)
		return err
	})
	for _, r := range batch {
		if err != nil {
			r.err = classify(err, callKind{cachedToken: true})
			continue
		}
		i := slices.IndexFunc(jobs, func(j orchestrator.Job) bool { return j.ID == r.id })
		if i < 0 {
			r.err = classify(&apierror.Error{Platform: orchestrator.Platform, Op: "jobsById", Status: http.StatusNotFound,
				Message: fmt.Sprintf("job %d is not in folder %q", r.id, k.path)}, callKind{})
			continue
		}
		r.job = jobs[i]
	}
}
