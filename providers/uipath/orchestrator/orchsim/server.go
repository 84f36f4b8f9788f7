// Package orchsim is an in-process simulator of UiPath Orchestrator and its
// identity server, served as a plain http.Handler. It follows the wire
// described in the project's UiPath reference: form-encoded client
// credentials, legacy ROPC, folder headers, OData collections, StartJobs
// with string-encoded arguments, queue items with unique references.
package orchsim

import (
	"cmp"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rpaflow/rpaflow/providers/simkit"
)

// App is an external application (client credentials).
type App struct {
	ClientID     string
	ClientSecret string
	Scopes       []string // scopes granted to the app
}

// User is a local user for the legacy ROPC login.
type User struct {
	TenancyName string
	Username    string
	Password    string
}

// Folder is a modern folder with its processes and queues.
type Folder struct {
	ID       int64
	Path     string // fully qualified, e.g. "Finance/Invoices"
	Releases []Release
	Queues   []Queue
	// Robots is how many jobs run in the folder at once (0: no limit);
	// further jobs stay Pending until a robot frees, their ErrorCode
	// naming PendingReason once dispatched.
	Robots int
	// PendingReason is the pending reason (Orchestrator's JobPendingReasons
	// names) of a job that waits for a robot; default "RobotBusy".
	PendingReason string
}

// Release is a process in a folder and the script its jobs follow:
// Pending for Pending, Running for Running, then Final.
type Release struct {
	Name    string
	Key     string // generated when empty
	Pending time.Duration
	Running time.Duration
	Final   string // Successful (default), Faulted or Stopped
	Info    string // the job's Info once final (the fault message)
	// StopDelay is how long a SoftStop leaves the job Stopping before it
	// ends Stopped (default 2 s); Kill stops it at once.
	StopDelay time.Duration
	// IgnoreSoftStop: the process never checks for a stop, so only Kill ends it.
	IgnoreSoftStop bool
	// Output computes a successful job's output arguments from its inputs.
	Output func(in map[string]any) map[string]any
}

// Queue is a queue in a folder. Its items go New → InProgress (after a
// second) → the Outcome's status once Process has passed.
type Queue struct {
	Name            string
	UniqueReference bool
	Process         time.Duration // 0: items stay New (no robot works the queue)
	// Outcome decides a processed item's end; nil: Successful, output {"done":true}.
	// Status Retried makes a retry item (RetryNumber+1) that follows Outcome again.
	Outcome func(content map[string]any, retry int) ItemOutcome
}

// ItemOutcome is how a robot ended a queue item.
type ItemOutcome struct {
	Status        string // Successful, Failed, Retried, Abandoned
	Output        map[string]any
	Reason        string // the ProcessingException's reason when not Successful
	ExceptionType string // BusinessException or ApplicationException
}

// Options configure a Server.
type Options struct {
	Organization     string // default "rpaflow"
	Tenant           string // default "DefaultTenant"
	Apps             []App
	Users            []User
	TokenLifetime    time.Duration // client credentials; default 1 h
	ROPCLifetime     time.Duration // default 30 min
	Folders          []Folder
	JobListPerMinute int // GET /odata/Jobs per tenant; default 100
	// JobReadsPerMinute limits GET /odata/Jobs(id) per tenant (0: no limit).
	JobReadsPerMinute int
	Clock             simkit.Clock
	// Webhooks are the tenant's webhooks at start; /odata/Webhooks edits them.
	Webhooks []Webhook
	// WebhookBreaker is how long delivery to a webhook stops after one
	// failed (default one hour, as Orchestrator; negative: never).
	WebhookBreaker time.Duration
}

// Demo credentials of DefaultOptions.
const (
	DemoClientID     = "rpaflow-demo-app"
	DemoClientSecret = "rpaflow-demo-app-secret"
	DemoUsername     = "admin"
	DemoPassword     = "rpaflow-demo-Passw0rd"
	DemoTenancyName  = "Default"
)

// DefaultOptions is the demo tenant used by the local stack.
func DefaultOptions() Options {
	return Options{
		Apps: []App{{ClientID: DemoClientID, ClientSecret: DemoClientSecret,
			Scopes: []string{"OR.Folders.Read", "OR.Execution.Read", "OR.Jobs", "OR.Queues", "OR.Webhooks"}}},
		Users: []User{{TenancyName: DemoTenancyName, Username: DemoUsername, Password: DemoPassword}},
		Folders: []Folder{
			{ID: 1, Path: "Shared",
				Releases: []Release{
					{Name: "Invoices", Pending: 500 * time.Millisecond, Running: 2 * time.Second, Final: "Successful",
						Output: func(in map[string]any) map[string]any {
							count := any(1)
							if v, ok := in["count"]; ok {
								count = v
							}
							return map[string]any{"status": "processed", "count": count}
						}},
					{Name: "Broken", Pending: 500 * time.Millisecond, Running: time.Second, Final: "Faulted", Info: "Invoice file missing"},
					{Name: "LongRunning", Pending: 500 * time.Millisecond, Running: time.Hour, StopDelay: 2 * time.Second},
					{Name: "Stubborn", Pending: 500 * time.Millisecond, Running: time.Hour, IgnoreSoftStop: true},
				},
				Queues: []Queue{{Name: "Orders", UniqueReference: true, Process: 2 * time.Second, Outcome: DemoOrderOutcome}},
			},
			{ID: 2, Path: "Finance/Invoices"},
		},
	}
}

// Server is the simulator. It is safe for concurrent use.
type Server struct {
	org, tenant   string
	apps          map[string]App
	users         []User
	tokenLifetime time.Duration
	ropcLifetime  time.Duration
	jobListLimit  int
	jobReadLimit  int
	jobReadHits   []time.Time
	clock         simkit.Clock

	counters simkit.Counters
	faults   simkit.Faults
	handler  http.Handler

	mu          sync.Mutex
	folders     []*folderState // by ID
	tokens      map[string]tokenInfo
	issued      []string
	jobs        map[int64]*jobState
	items       map[int64]*itemState
	nextJob     int64
	nextItem    int64
	jobListHits []time.Time
	webhooks    []*Webhook
	nextWebhook int64
	nextEvent   int64
	deliver     *simkit.Deliverer
}

// New builds a Server from o, filling defaults.
func New(o Options) *Server {
	s := &Server{
		org: o.Organization, tenant: o.Tenant,
		apps: map[string]App{}, users: o.Users,
		tokenLifetime: o.TokenLifetime, ropcLifetime: o.ROPCLifetime,
		jobListLimit: o.JobListPerMinute, jobReadLimit: o.JobReadsPerMinute, clock: o.Clock,
		tokens: map[string]tokenInfo{}, jobs: map[int64]*jobState{}, items: map[int64]*itemState{},
	}
	if s.org == "" {
		s.org = "rpaflow"
	}
	if s.tenant == "" {
		s.tenant = "DefaultTenant"
	}
	if s.tokenLifetime <= 0 {
		s.tokenLifetime = time.Hour
	}
	if s.ropcLifetime <= 0 {
		s.ropcLifetime = 30 * time.Minute
	}
	if s.jobListLimit <= 0 {
		s.jobListLimit = 100
	}
	for _, a := range o.Apps {
		s.apps[a.ClientID] = a
	}
	breaker := o.WebhookBreaker
	if breaker == 0 {
		breaker = time.Hour
	}
	// Orchestrator's webhook service sends with 10 workers by default.
	s.deliver = &simkit.Deliverer{Clock: s.clock, Breaker: max(breaker, 0), Workers: 10}
	for _, w := range o.Webhooks {
		w := w
		s.nextWebhook++
		w.ID, w.Key = s.nextWebhook, newUUID()
		s.webhooks = append(s.webhooks, &w)
	}
	s.buildFolders(o.Folders)
	s.handler = s.faults.Wrap(http.HandlerFunc(s.route), func(w http.ResponseWriter, status int, _, message string) {
		writeError(w, status, 0, message)
	})
	return s
}

func (s *Server) buildFolders(in []Folder) {
	byPath := map[string]*folderState{}
	var releaseID, queueID int64
	for _, f := range in {
		path := strings.Trim(f.Path, "/")
		fs := &folderState{id: f.ID, key: newUUID(), path: path, queues: map[string]*queueState{}, robots: f.Robots,
			pendingReason: cmp.Or(f.PendingReason, "RobotBusy")}
		fs.display = path[strings.LastIndex(path, "/")+1:]
		for _, r := range f.Releases {
			releaseID++
			if r.Key == "" {
				r.Key = newUUID()
			}
			if r.Final == "" {
				r.Final = "Successful"
			}
			fs.releases = append(fs.releases, &releaseState{Release: r, id: releaseID})
		}
		for _, q := range f.Queues {
			queueID++
			fs.queues[strings.ToLower(q.Name)] = &queueState{Queue: q, id: queueID, refs: map[string]bool{}}
		}
		s.folders = append(s.folders, fs)
		byPath[strings.ToLower(path)] = fs
	}
	sort.Slice(s.folders, func(i, j int) bool { return s.folders[i].id < s.folders[j].id })
	for _, fs := range s.folders {
		if i := strings.LastIndex(fs.path, "/"); i > 0 {
			if p, ok := byPath[strings.ToLower(fs.path[:i])]; ok {
				fs.parent = p
			}
		}
	}
}

// ServeHTTP serves identity and Orchestrator.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Counters are the call counts: "token", "token.failed", "ropc", "folders",
// "releases", "startJobs", "job.get", "jobs.list", "addQueueItem",
// "addQueueItem.duplicate", "stopJobs" (requests), "stopJobs.SoftStop" and
// "stopJobs.Kill" (per job), "queueItem", "queueItems", "http.401", "http.403",
// "job.get.throttled" (refused by JobReadsPerMinute), "jobs.pending.norobot" (a job started while all the folder's robots were busy).
func (s *Server) Counters() *simkit.Counters { return &s.counters }

// Faults injects outages, throttling, latency and 5xx in front of everything.
func (s *Server) Faults() *simkit.Faults { return &s.faults }

// IssuedSecrets returns every token minted plus the configured client
// secrets and passwords, so tests can check none of them leaks.
func (s *Server) IssuedSecrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]string(nil), s.issued...)
	for _, a := range s.apps {
		out = append(out, a.ClientSecret)
	}
	for _, u := range s.users {
		out = append(out, u.Password)
	}
	return out
}

// Jobs returns the number of jobs started.
func (s *Server) Jobs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.jobs)
}

// JobReferences counts the jobs started by reference ("" for none).
func (s *Server) JobReferences() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, j := range s.jobs {
		out[j.reference]++
	}
	return out
}

// ItemReferences counts the queue items added by reference, retries of an
// item (made by the simulated robot) not counted.
func (s *Server) ItemReferences() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, it := range s.items {
		if it.dto.RetryNumber == 0 {
			out[it.dto.Reference]++
		}
	}
	return out
}

// route dispatches on the path; Orchestrator paths are served both under
// /{org}/{tenant}/orchestrator_ and at the root (standalone).
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	seg := strings.Split(strings.Trim(p, "/"), "/")
	lower := strings.ToLower(p)
	switch {
	case lower == "/identity_/connect/token" || lower == "/identity/connect/token",
		len(seg) == 4 && strings.EqualFold(seg[0], s.org) && strings.EqualFold(seg[1], "identity_") &&
			strings.EqualFold(seg[2], "connect") && strings.EqualFold(seg[3], "token"):
		if !method(w, r, http.MethodPost) {
			return
		}
		s.token(w, r)
		return
	}
	prefix, rest := "", p
	if len(seg) >= 3 && strings.EqualFold(seg[2], "orchestrator_") {
		if !strings.EqualFold(seg[0], s.org) || !strings.EqualFold(seg[1], s.tenant) {
			writeError(w, http.StatusNotFound, 0, "Unknown organization or tenant in the URL; the simulator serves /"+s.org+"/"+s.tenant+"/orchestrator_/.")
			return
		}
		prefix, rest = "/"+seg[0]+"/"+seg[1]+"/orchestrator_", "/"+strings.Join(seg[3:], "/")
	}
	req := &request{w: w, r: r, base: scheme(r) + "://" + r.Host + prefix, tenantInURL: prefix != ""}
	rl := strings.ToLower(rest)
	switch {
	case rl == "/api/account/authenticate":
		if method(w, r, http.MethodPost) {
			s.ropc(req)
		}
	case rl == "/odata/folders":
		s.serve(req, http.MethodGet, "folders", s.listFolders)
	case rl == "/odata/releases":
		s.serve(req, http.MethodGet, "releases", s.listReleases)
	case rl == "/odata/jobs/uipath.server.configuration.odata.startjobs":
		s.serve(req, http.MethodPost, "startJobs", s.startJobs)
	case rl == "/odata/jobs":
		s.serve(req, http.MethodGet, "jobs.list", s.listJobs)
	case strings.HasPrefix(rl, "/odata/jobs(") && strings.HasSuffix(rl, ")"):
		req.arg = rest[len("/odata/jobs(") : len(rest)-1]
		s.serve(req, http.MethodGet, "job.get", s.getJob)
	case rl == "/odata/jobs/uipath.server.configuration.odata.stopjobs":
		s.serve(req, http.MethodPost, "stopJobs", s.stopJobs)
	case rl == "/odata/queueitems":
		s.serve(req, http.MethodGet, "queueItems", s.listQueueItems)
	case strings.HasPrefix(rl, "/odata/queueitems(") && strings.HasSuffix(rl, ")/uipath.server.configuration.odata.getitemlastretry"):
		req.arg, req.lastRetry = rest[len("/odata/queueitems("):strings.Index(rest, ")")], true
		s.serve(req, http.MethodGet, "queueItem", s.getQueueItem)
	case strings.HasPrefix(rl, "/odata/queueitems(") && strings.HasSuffix(rl, ")"):
		req.arg = rest[len("/odata/queueitems(") : len(rest)-1]
		s.serve(req, http.MethodGet, "queueItem", s.getQueueItem)
	case rl == "/odata/webhooks":
		s.serveAny(req, "webhooks", s.webhooksAPI)
	case strings.HasPrefix(rl, "/odata/webhooks(") && strings.HasSuffix(rl, ")/uipath.server.configuration.odata.ping"):
		req.arg, req.ping = rest[len("/odata/webhooks("):strings.Index(rest, ")")], true
		if method(w, r, http.MethodPost) {
			s.serveAny(req, "webhooks", s.webhooksAPI)
		}
	case strings.HasPrefix(rl, "/odata/webhooks(") && strings.HasSuffix(rl, ")"):
		req.arg = rest[len("/odata/webhooks(") : len(rest)-1]
		s.serveAny(req, "webhooks", s.webhooksAPI)
	case rl == "/odata/queues/uipathodatasvc.addqueueitem":
		s.serve(req, http.MethodPost, "addQueueItem", s.addQueueItem)
	default:
		writeError(w, http.StatusNotFound, 0, "No endpoint at "+p+".")
	}
}

// request carries what handlers need besides the raw request.
type request struct {
	w           http.ResponseWriter
	r           *http.Request
	base        string // Orchestrator root URL as the caller sees it
	tenantInURL bool
	arg         string // path argument, e.g. the job id
	lastRetry   bool   // GetItemLastRetry on a queue item
	ping        bool   // Ping on a webhook
}

// serveAny checks the bearer token and scope for op, whatever the method.
func (s *Server) serveAny(req *request, op string, h func(*request)) {
	if req.r.Method == http.MethodGet {
		op += ".read"
	} else {
		op += ".write"
	}
	if !s.authorize(req, op) {
		return
	}
	h(req)
}

// serve checks method, bearer token and scope, counts the call, then runs h.
func (s *Server) serve(req *request, m, op string, h func(*request)) {
	if !method(req.w, req.r, m) {
		return
	}
	if !s.authorize(req, op) {
		return
	}
	s.counters.Inc(op)
	h(req)
}

func method(w http.ResponseWriter, r *http.Request, m string) bool {
	if r.Method == m {
		return true
	}
	w.Header().Set("Allow", m)
	writeError(w, http.StatusMethodNotAllowed, 0, "The requested resource does not support http method '"+r.Method+"'.")
	return false
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}
