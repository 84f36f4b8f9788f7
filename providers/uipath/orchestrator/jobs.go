package orchestrator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rpaflow/rpaflow/providers/apierror"
)

// MaxInputArguments is Orchestrator's limit on the JSON text of a job's input arguments.
const MaxInputArguments = 10000

// maxReference is Orchestrator's limit on job and queue item references.
const maxReference = 128

// StartJobRequest starts one job of a release.
type StartJobRequest struct {
	ReleaseKey     string
	InputArguments map[string]any
	Priority       string // Low, Normal or High; empty leaves the release default
	Reference      string
}

// Job is an Orchestrator job.
type Job struct {
	ID              int64
	Key             string
	State           string
	Info            string
	ReleaseName     string
	OutputArguments map[string]any
	InputArguments  map[string]any
	Start, End      time.Time
	Created         time.Time
	Reference       string
	ErrorCode       string
}

// capacityReasons are the pending reasons (Orchestrator's JobPendingReasons)
// that say the folder has no robot, runtime, host or licence free now, as
// opposed to a job that can never start (no robot in the folder, no
// credentials, a robot too old).
var capacityReasons = []string{"RobotBusy", "RobotConcurrencyLimit", "TemplateFullCapacity", "TemplateNoRuntime",
	"TemplateNoHostsAvailable", "TemplateNoLicense", "NoRobotsAvailable", "UnattendedSlotsLimitExceeded", "NotEnoughRuntimeLicenses"}

// PendingForCapacity reports whether the job waits Pending because the
// folder has no capacity free: Orchestrator's answer that it is full. The
// numeric codes of these reasons are not documented, so the name decides.
func (j Job) PendingForCapacity() bool {
	return j.State == "Pending" && slices.ContainsFunc(capacityReasons, func(r string) bool { return strings.EqualFold(r, j.ErrorCode) })
}

// IsTerminalJobState reports whether a job in state s will not change again.
func IsTerminalJobState(s string) bool {
	switch s {
	case "Successful", "Faulted", "Stopped":
		return true
	}
	return false
}

type jobDTO struct {
	ID              int64     `json:"Id"`
	Key             string    `json:"Key"`
	State           string    `json:"State"`
	Info            *string   `json:"Info"`
	ReleaseName     string    `json:"ReleaseName"`
	OutputArguments arguments `json:"OutputArguments"`
	InputArguments  arguments `json:"InputArguments"`
	StartTime       odataTime `json:"StartTime"`
	EndTime         odataTime `json:"EndTime"`
	CreationTime    odataTime `json:"CreationTime"`
	Reference       *string   `json:"Reference"`
	ErrorCode       *string   `json:"ErrorCode"`
}

func (d jobDTO) job() Job {
	j := Job{ID: d.ID, Key: d.Key, State: d.State, ReleaseName: d.ReleaseName,
		OutputArguments: d.OutputArguments, InputArguments: d.InputArguments,
		Start: time.Time(d.StartTime), End: time.Time(d.EndTime), Created: time.Time(d.CreationTime), Reference: deref(d.Reference)}
	if d.Info != nil {
		j.Info = *d.Info
	}
	if d.ErrorCode != nil {
		j.ErrorCode = *d.ErrorCode
	}
	return j
}

// StartJob starts one job (ModernJobsCount, 1 job) of r.ReleaseKey in folder f.
func (c *Client) StartJob(ctx context.Context, token string, f Folder, r StartJobRequest) (Job, error) {
	if strings.TrimSpace(r.ReleaseKey) == "" {
		return Job{}, apierror.Invalid("releaseKey", "is empty; find it with Release")
	}
	priority, err := checkPriority(r.Priority)
	if err != nil {
		return Job{}, err
	}
	if len(r.Reference) > maxReference {
		return Job{}, apierror.Invalid("reference", "is %d characters; Orchestrator allows at most %d", len(r.Reference), maxReference)
	}
	info := map[string]any{"ReleaseKey": r.ReleaseKey, "Strategy": "ModernJobsCount", "JobsCount": 1}
	if len(r.InputArguments) > 0 {
		b, err := json.Marshal(r.InputArguments)
		if err != nil {
			return Job{}, apierror.Invalid("inputArguments", "cannot be encoded as JSON: %v", err)
		}
		if n := utf8.RuneCount(b); n > MaxInputArguments {
			return Job{}, apierror.Invalid("inputArguments", "encode to %d characters of JSON; Orchestrator accepts at most %d, so pass large data by reference (a storage bucket or queue item)", n, MaxInputArguments)
		}
		info["InputArguments"] = string(b) // Orchestrator wants the JSON as a string
	}
	if priority != "" {
		info["JobPriority"] = priority
	}
	if r.Reference != "" {
		info["Reference"] = r.Reference
	}
	h, err := bearer(token)
	if err != nil {
		return Job{}, err
	}
	if err := folderHeader(h, f); err != nil {
		return Job{}, err
	}
	var page struct{ Value []jobDTO }
	resp, err := c.caller.JSON(ctx, "startJobs", http.MethodPost,
		c.orchURL+"/odata/Jobs/UiPath.Server.Configuration.OData.StartJobs", h,
		map[string]any{"startInfo": info}, &page)
	if err != nil {
		return Job{}, err
	}
	if len(page.Value) == 0 {
		return Job{}, &apierror.Error{Platform: Platform, Op: "startJobs", Status: resp.Status,
			Message: "Orchestrator accepted the request but returned no job"}
	}
	return page.Value[0].job(), nil
}

// Job reads job id in folder f.
func (c *Client) Job(ctx context.Context, token string, f Folder, id int64) (Job, error) {
	if id <= 0 {
		return Job{}, apierror.Invalid("jobId", "is %d; give the Id StartJob returned", id)
	}
	h, err := bearer(token)
	if err != nil {
		return Job{}, err
	}
	if err := folderHeader(h, f); err != nil {
		return Job{}, err
	}
	var d jobDTO
	if _, err := c.caller.JSON(ctx, "job", http.MethodGet,
		c.orchURL+"/odata/Jobs("+strconv.FormatInt(id, 10)+")", h, nil, &d); err != nil {
		return Job{}, err
	}
	return d.job(), nil
}

// MaxJobsPerRead is how many jobs JobsByID reads at once (the filter
// stays a short URL).
const MaxJobsPerRead = 50

// JobsByID reads the jobs ids of folder f in one call (a $filter on Id):
// one rate-limited collection call in place of len(ids) reads by Id. Jobs
// that do not exist are absent from the answer.
func (c *Client) JobsByID(ctx context.Context, token string, f Folder, ids []int64) ([]Job, error) {
	if len(ids) == 0 || len(ids) > MaxJobsPerRead {
		return nil, apierror.Invalid("jobIds", "are %d; give 1 to %d", len(ids), MaxJobsPerRead)
	}
	terms := make([]string, len(ids))
	for i, id := range ids {
		if id <= 0 {
			return nil, apierror.Invalid("jobIds", "include %d; give the Ids StartJob returned", id)
		}
		terms[i] = "Id eq " + strconv.FormatInt(id, 10)
	}
	h, err := bearer(token)
	if err != nil {
		return nil, err
	}
	if err := folderHeader(h, f); err != nil {
		return nil, err
	}
	var page struct{ Value []jobDTO }
	q := query("$filter", strings.Join(terms, " or "), "$top", strconv.Itoa(len(ids)))
	if _, err := c.caller.JSON(ctx, "jobsById", http.MethodGet, c.orchURL+"/odata/Jobs?"+q, h, nil, &page); err != nil {
		return nil, err
	}
	jobs := make([]Job, 0, len(page.Value))
	for _, d := range page.Value {
		jobs = append(jobs, d.job())
	}
	return jobs, nil
}

func checkPriority(p string) (string, error) {
	for _, v := range []string{"Low", "Normal", "High"} {
		if strings.EqualFold(p, v) {
			return v, nil
		}
	}
	if p == "" {
		return "", nil
	}
	return "", apierror.Invalid("priority", "is %q; use Low, Normal or High", p)
}

// arguments decodes Orchestrator's argument fields, which hold a JSON
// object encoded as a string (an object is accepted too).
type arguments map[string]any

func (a *arguments) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*a = nil
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if strings.TrimSpace(s) == "" {
			*a = nil
			return nil
		}
		b = []byte(s)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return errors.New("arguments are not a JSON object")
	}
	*a = m
	return nil
}

// odataTime decodes ISO-8601 times that may lack a zone (taken as UTC) or be null.
type odataTime time.Time

func (t *odataTime) UnmarshalJSON(b []byte) error {
	var s *string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == nil || *s == "" {
		*t = odataTime{}
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if v, err := time.Parse(layout, *s); err == nil {
			*t = odataTime(v.UTC())
			return nil
		}
	}
	return fmt.Errorf("time %q is not ISO-8601", *s)
}
