package orchsim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

type releaseState struct {
	Release
	id int64
}

type releaseDTO struct {
	Key                                string  `json:"Key"`
	ProcessKey                         string  `json:"ProcessKey"`
	ProcessVersion                     string  `json:"ProcessVersion"`
	IsLatestVersion                    bool    `json:"IsLatestVersion"`
	IsProcessDeleted                   bool    `json:"IsProcessDeleted"`
	Description                        *string `json:"Description"`
	Name                               string  `json:"Name"`
	InputArguments                     *string `json:"InputArguments"`
	ProcessType                        string  `json:"ProcessType"`
	JobPriority                        string  `json:"JobPriority"`
	FolderKey                          string  `json:"FolderKey"`
	OrganizationUnitID                 int64   `json:"OrganizationUnitId"`
	OrganizationUnitFullyQualifiedName string  `json:"OrganizationUnitFullyQualifiedName"`
	TargetFramework                    string  `json:"TargetFramework"`
	ID                                 int64   `json:"Id"`
}

var releaseSchema = map[string]kind{"Name": kindString, "ProcessKey": kindString, "Key": kindString, "Id": kindInt}

// listReleases is GET /odata/Releases in the header's folder.
func (s *Server) listReleases(req *request) {
	f, ok := s.folder(req)
	if !ok {
		return
	}
	q, err := parseQuery(req.r.URL.Query(), releaseSchema)
	if err != nil {
		writeError(req.w, http.StatusBadRequest, 1000, "Invalid OData query options: "+err.Error())
		return
	}
	rows := make([]row, len(f.releases))
	for i, r := range f.releases {
		rows[i] = row{"Name": r.Name, "ProcessKey": r.Name, "Key": r.Key, "Id": r.id}
	}
	idx := q.apply(rows)
	out := collection{Context: req.base + "/odata/$metadata#Releases", Count: len(idx), Value: []any{}}
	for _, i := range idx {
		r := f.releases[i]
		out.Value = append(out.Value, releaseDTO{Key: r.Key, ProcessKey: r.Name, ProcessVersion: "1.0.0",
			IsLatestVersion: true, Name: r.Name, ProcessType: "Process", JobPriority: "Normal", FolderKey: f.key,
			OrganizationUnitID: f.id, OrganizationUnitFullyQualifiedName: f.path, TargetFramework: "Portable", ID: r.id})
	}
	writeJSON(req.w, http.StatusOK, out)
}

type jobState struct {
	id        int64
	key       string
	batch     string
	folder    *folderState
	release   *releaseState
	created   time.Time
	input     string // the JSON string as sent
	output    string // OutputArguments once successful
	priority  string
	reference string
	softStop  time.Time // when a SoftStop was asked for
	killed    time.Time // when a Kill was asked for
	notified  bool      // its end event went out
}

// started is when the job leaves Pending: after the release's Pending
// time and, in a folder with a robot limit, once a robot is free (robots
// take the jobs in the order they were created).
func (j *jobState) started() time.Time {
	f := j.folder
	if f.robots == 0 {
		return j.created.Add(j.release.Pending)
	}
	free := make([]time.Time, f.robots)
	for _, x := range f.robotJobs {
		r := 0
		for i := range free {
			if free[i].Before(free[r]) {
				r = i
			}
		}
		st := x.created.Add(x.release.Pending)
		if free[r].After(st) {
			st = free[r]
		}
		if x == j {
			return st
		}
		e := st.Add(x.release.Running)
		if at := x.stopAt(e); !at.IsZero() {
			e = at
		}
		if e.After(st) { // a job stopped while Pending never took the robot
			free[r] = e
		}
	}
	return j.created.Add(j.release.Pending)
}

// at returns the job's state and times at now, following the release's script.
func (j *jobState) at(now time.Time) (state string, start, end time.Time) {
	started := j.started()
	ended := started.Add(j.release.Running)
	if at := j.stopAt(ended); !at.IsZero() && !now.Before(at) {
		return "Stopped", started, at
	}
	if j.stopping(now, ended) {
		return "Stopping", started, time.Time{}
	}
	switch {
	case now.Before(started):
		return "Pending", time.Time{}, time.Time{}
	case now.Before(ended):
		return "Running", started, time.Time{}
	}
	return j.release.Final, started, ended
}

type jobDTO struct {
	Context                            string  `json:"@odata.context,omitempty"`
	Key                                string  `json:"Key"`
	StartTime                          *string `json:"StartTime"`
	EndTime                            *string `json:"EndTime"`
	State                              string  `json:"State"`
	JobPriority                        string  `json:"JobPriority"`
	Source                             string  `json:"Source"`
	SourceType                         string  `json:"SourceType"`
	BatchExecutionKey                  string  `json:"BatchExecutionKey"`
	Info                               *string `json:"Info"`
	CreationTime                       *string `json:"CreationTime"`
	StartingScheduleID                 *int64  `json:"StartingScheduleId"`
	ReleaseName                        string  `json:"ReleaseName"`
	Type                               string  `json:"Type"`
	InputArguments                     *string `json:"InputArguments"`
	OutputArguments                    *string `json:"OutputArguments"`
	HostMachineName                    *string `json:"HostMachineName"`
	HasMediaRecorded                   bool    `json:"HasMediaRecorded"`
	PersistenceID                      *string `json:"PersistenceId"`
	ResumeVersion                      *int64  `json:"ResumeVersion"`
	StopStrategy                       *string `json:"StopStrategy"`
	RuntimeType                        string  `json:"RuntimeType"`
	RequiresUserInteraction            bool    `json:"RequiresUserInteraction"`
	ReleaseVersionID                   *int64  `json:"ReleaseVersionId"`
	EntryPointPath                     *string `json:"EntryPointPath"`
	OrganizationUnitID                 int64   `json:"OrganizationUnitId"`
	OrganizationUnitFullyQualifiedName string  `json:"OrganizationUnitFullyQualifiedName"`
	Reference                          string  `json:"Reference"`
	ProcessType                        string  `json:"ProcessType"`
	ErrorCode                          *string `json:"ErrorCode"`
	ID                                 int64   `json:"Id"`
}

func (j *jobState) dto(now time.Time) jobDTO {
	state, start, end := j.at(now)
	d := jobDTO{Key: j.key, StartTime: timeString(start), EndTime: timeString(end), State: state,
		JobPriority: j.priority, Source: "Manual", SourceType: "Manual", BatchExecutionKey: j.batch,
		CreationTime: timeString(j.created), ReleaseName: j.release.Name, Type: "Unattended",
		RuntimeType: "Unattended", OrganizationUnitID: j.folder.id, OrganizationUnitFullyQualifiedName: j.folder.path,
		Reference: j.reference, ProcessType: "Process", ID: j.id}
	if j.input != "" {
		in := j.input
		d.InputArguments = &in
	}
	if state != "Pending" {
		host := "SIM-ROBOT-01"
		d.HostMachineName = &host
	} else if dispatched := j.created.Add(j.release.Pending); !now.Before(dispatched) && j.started().After(dispatched) {
		reason := j.folder.pendingReason // dispatched, but every robot is busy
		d.ErrorCode = &reason
	}
	if isFinal(state) {
		if j.release.Info != "" {
			info := j.release.Info
			d.Info = &info
		}
		if state == "Successful" {
			out := j.output
			d.OutputArguments = &out
		}
	}
	return d
}

func isFinal(state string) bool {
	return state == "Successful" || state == "Faulted" || state == "Stopped"
}

var (
	strategies = []string{"All", "Specific", "RobotCount", "JobsCount", "ModernJobsCount"}
	priorities = []string{"Low", "Normal", "High"}
)

func oneOf(v string, allowed []string) (string, bool) {
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a, true
		}
	}
	return "", false
}

const maxInputArguments = 10000

// folderAndBody resolves the request's folder and reads the object under
// key of its JSON body ({"startInfo":{…}}, {"itemData":{…}}), answering the
// error itself when either is missing.
func (s *Server) folderAndBody(req *request, key string) (*folderState, map[string]any, bool) {
	f, ok := s.folder(req)
	if !ok {
		return nil, nil, false
	}
	body, err := readObject(req.r)
	if err != nil {
		writeError(req.w, http.StatusBadRequest, 1000, "Invalid request! "+err.Error()+".")
		return nil, nil, false
	}
	v, _ := field(body, key)
	obj, ok := v.(map[string]any)
	if !ok {
		writeError(req.w, http.StatusBadRequest, 1000, key+" is required.")
		return nil, nil, false
	}
	return f, obj, true
}

// startJobs is POST /odata/Jobs/UiPath.Server.Configuration.OData.StartJobs.
func (s *Server) startJobs(req *request) {
	f, info, ok := s.folderAndBody(req, "startInfo")
	if !ok {
		return
	}
	bad := func(msg string) { writeError(req.w, http.StatusBadRequest, 1000, msg) }
	releaseKey, ok1 := stringField(info, "ReleaseKey")
	releaseName, ok2 := stringField(info, "ReleaseName")
	if !ok1 || !ok2 || (releaseKey == "" && releaseName == "") {
		bad("startInfo.ReleaseKey (or ReleaseName) is required.")
		return
	}
	var rel *releaseState
	for _, r := range f.releases {
		if (releaseKey != "" && strings.EqualFold(r.Key, releaseKey)) ||
			(releaseKey == "" && strings.EqualFold(r.Name, releaseName)) {
			rel = r
			break
		}
	}
	if rel == nil {
		writeError(req.w, http.StatusNotFound, 1002, "The job's associated process could not be found.")
		return
	}
	strategy := "ModernJobsCount"
	if sv, ok := stringField(info, "Strategy"); !ok {
		bad("startInfo.Strategy must be a string.")
		return
	} else if sv != "" {
		if strategy, ok = oneOf(sv, strategies); !ok {
			bad("startInfo.Strategy must be one of " + strings.Join(strategies, ", ") + ".")
			return
		}
	}
	count := int64(1)
	if cv, found := field(info, "JobsCount"); found && cv != nil {
		n, err := numberOf(cv)
		if err != nil || ((strategy == "JobsCount" || strategy == "ModernJobsCount") && n <= 0) {
			bad("startInfo.JobsCount must be a positive integer.")
			return
		}
		count = min(max(n, 1), 100)
	}
	input, ok := stringField(info, "InputArguments")
	if !ok {
		bad("startInfo.InputArguments must be a JSON object encoded as a string.")
		return
	}
	var in map[string]any
	if input != "" {
		if utf8.RuneCountInString(input) > maxInputArguments {
			bad("startInfo.InputArguments exceeds the maximum length of 10000 characters.")
			return
		}
		if err := json.Unmarshal([]byte(input), &in); err != nil {
			bad("startInfo.InputArguments must be a JSON object encoded as a string.")
			return
		}
	}
	priority := "Normal"
	if pv, ok := stringField(info, "JobPriority"); !ok {
		bad("startInfo.JobPriority must be a string.")
		return
	} else if pv != "" {
		if priority, ok = oneOf(pv, priorities); !ok {
			bad("startInfo.JobPriority must be Low, Normal or High.")
			return
		}
	}
	reference, ok := stringField(info, "Reference")
	if !ok || len(reference) > 128 {
		bad("startInfo.Reference must be a string of at most 128 characters.")
		return
	}
	output := "{}"
	if rel.Final == "Successful" && rel.Output != nil {
		if b, err := json.Marshal(rel.Output(in)); err == nil {
			output = string(b)
		}
	}

	now := s.clock.Now()
	batch := newUUID()
	out := struct {
		Context string   `json:"@odata.context"`
		Value   []jobDTO `json:"value"`
	}{Context: req.base + "/odata/$metadata#Jobs"}
	s.mu.Lock()
	var started []*jobState
	for range count {
		s.nextJob++
		j := &jobState{id: s.nextJob, key: newUUID(), batch: batch, folder: f, release: rel, created: now,
			input: input, output: output, priority: priority, reference: reference}
		if f.robots > 0 {
			f.robotJobs = append(f.robotJobs, j)
			if j.started().After(now.Add(rel.Pending)) {
				s.counters.Inc("jobs.pending.norobot") // no robot free: it waits Pending
			}
		}
		s.jobs[j.id] = j
		started = append(started, j)
		d := j.dto(now)
		d.State, d.StartTime, d.EndTime, d.HostMachineName = "Pending", nil, nil, nil // a new job is always Pending
		d.Info, d.OutputArguments = nil, nil
		out.Value = append(out.Value, d)
	}
	s.mu.Unlock()
	for _, j := range started {
		s.watchJob(j)
	}
	writeJSON(req.w, http.StatusCreated, out)
}

func numberOf(v any) (int64, error) {
	switch n := v.(type) {
	case json.Number:
		return n.Int64()
	case string:
		return strconv.ParseInt(n, 10, 64)
	}
	return 0, strconv.ErrSyntax
}

// getJob is GET /odata/Jobs({id}) in the header's folder.
func (s *Server) getJob(req *request) {
	if s.jobReadLimit > 0 && s.throttled(req, &s.jobReadHits, s.jobReadLimit, "GET /odata/Jobs(id)") {
		s.counters.Inc("job.get.throttled")
		return
	}
	f, ok := s.folder(req)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(strings.TrimSpace(req.arg), 10, 64)
	if err != nil {
		writeError(req.w, http.StatusBadRequest, 1000, "The job key must be an integer Id.")
		return
	}
	now := s.clock.Now()
	s.mu.Lock()
	j, ok := s.jobs[id]
	var d jobDTO
	if ok && j.folder == f {
		d = j.dto(now)
	}
	s.mu.Unlock()
	if !ok || j.folder != f {
		writeError(req.w, http.StatusNotFound, 1002, "Job does not exist.")
		return
	}
	d.Context = req.base + "/odata/$metadata#Jobs/$entity"
	writeJSON(req.w, http.StatusOK, d)
}

var jobSchema = map[string]kind{"Id": kindInt, "Key": kindString, "State": kindString, "ReleaseName": kindString, "Reference": kindString}

// listJobs is GET /odata/Jobs, rate limited per tenant like Automation Cloud.
func (s *Server) listJobs(req *request) {
	if s.throttled(req, &s.jobListHits, s.jobListLimit, "GET /odata/Jobs") {
		return
	}
	f, ok := s.folder(req)
	if !ok {
		return
	}
	q, err := parseQuery(req.r.URL.Query(), jobSchema)
	if err != nil {
		writeError(req.w, http.StatusBadRequest, 1000, "Invalid OData query options: "+err.Error())
		return
	}
	now := s.clock.Now()
	s.mu.Lock()
	var jobs []*jobState
	for id := int64(1); id <= s.nextJob; id++ {
		if j, ok := s.jobs[id]; ok && j.folder == f {
			jobs = append(jobs, j)
		}
	}
	rows := make([]row, len(jobs))
	dtos := make([]jobDTO, len(jobs))
	for i, j := range jobs {
		dtos[i] = j.dto(now)
		rows[i] = row{"Id": j.id, "Key": j.key, "State": dtos[i].State, "ReleaseName": j.release.Name, "Reference": j.reference}
	}
	s.mu.Unlock()
	idx := q.apply(rows)
	out := collection{Context: req.base + "/odata/$metadata#Jobs", Count: len(idx), Value: []any{}}
	for _, i := range idx {
		out.Value = append(out.Value, dtos[i])
	}
	writeJSON(req.w, http.StatusOK, out)
}

// throttled answers 429 with Retry-After when hits already holds limit
// calls in the last minute (per tenant, as Automation Cloud counts), else
// records this one.
func (s *Server) throttled(req *request, hits *[]time.Time, limit int, what string) bool {
	now := s.clock.Now()
	s.mu.Lock()
	cut := now.Add(-time.Minute)
	kept := (*hits)[:0]
	for _, t := range *hits {
		if t.After(cut) {
			kept = append(kept, t)
		}
	}
	*hits = kept
	limited := len(kept) >= limit
	var wait time.Duration
	if limited {
		wait = kept[0].Add(time.Minute).Sub(now)
	} else {
		*hits = append(*hits, now)
	}
	s.mu.Unlock()
	if limited {
		secs := max(int64((wait+time.Second-1)/time.Second), 1)
		req.w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		writeError(req.w, http.StatusTooManyRequests, 0, "Too many requests. The limit for "+what+" is "+
			strconv.Itoa(limit)+" requests per minute per tenant.")
	}
	return limited
}
