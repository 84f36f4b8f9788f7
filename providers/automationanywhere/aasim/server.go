package aasim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/rpaflow/rpaflow/contract/botvalue"
	"github.com/rpaflow/rpaflow/providers/internal/jwt"
	"github.com/rpaflow/rpaflow/providers/simkit"
)

// User is a Control Room user that may log in.
type User struct {
	ID            int
	Username      string
	Password      string // empty: password login refused
	APIKey        string // empty: API key login refused
	MultipleLogin bool   // the user may hold several sessions at once
	// MFASecret (base32) makes the user's logins need a TOTP mfaCode
	// (HMAC-SHA1; MFADigits default 6, MFAPeriod default 30 s). A code is
	// accepted once, within a period of the server's clock either side.
	MFASecret string
	MFADigits int
	MFAPeriod time.Duration
}

// APITask is a real-time API Task allocation.
type APITask struct {
	FileID           int
	Path             string // repository path, e.g. `Automation Anywhere\Bots\Zip Code API Task`
	ConcurrencyLimit int    // executions in flight at once; default 2
	Inputs           []string
	// Run computes the outputs; nil echoes the inputs back. An error is
	// answered with 500 and its text as the message.
	Run     func(in map[string]botvalue.Value) (map[string]botvalue.Value, error)
	Latency time.Duration // how long an execution takes (real time)
}

// Bot is a bot that can be deployed; its activity moves DEPLOYED → RUNNING →
// Final over Deployed and Running (by the server's Clock).
type Bot struct {
	ID        int
	Name      string
	ListDelay time.Duration // the deployment is not listed before this
	Deployed  time.Duration
	Running   time.Duration
	Final     string // default COMPLETED
	Message   string // shown on the activity once final
	// StopDelay is how long a stopped execution stays RUNNING before it
	// ends RUN_ABORTED (0: at once).
	StopDelay time.Duration
	Outputs   map[string]botvalue.Value
	// Output, when set, computes the outputs from the deployment's botInput
	// (it wins over Outputs).
	Output func(in map[string]botvalue.Value) map[string]botvalue.Value
}

// Options configure a Server.
type Options struct {
	Users             []User
	TokenLifetime     time.Duration // default 20 min
	TaskTokenLifetime time.Duration // default 12 h
	APITasks          []APITask
	Bots              []Bot
	DisableV2Auth     bool // 404 on /v2/authentication* (older Control Rooms)
	// ExclusiveRunners runs one automation per runner (run-as user) at a
	// time, as a Control Room does: a deployment to a busy runner is listed
	// DEPLOYED until the runner's earlier runs end. Off, the demo's
	// deployments to its one user run side by side.
	ExclusiveRunners bool
	// APITaskSessions is the licensed number of API Task sessions: real-time
	// executions of all tasks beyond it are refused like one task's beyond
	// its ConcurrencyLimit (0: no limit but the tasks').
	APITaskSessions int
	WorkQueues      []WorkQueue
	// Clock is the Control Room's clock (tokens' iat/exp and expiry); a
	// clock minutes off the worker's simulates a skewed server.
	Clock simkit.Clock
}

// Server is the simulated Control Room. It is safe for concurrent use.
type Server struct {
	opts     Options
	handler  http.Handler
	counters simkit.Counters
	faults   simkit.Faults

	mu           sync.Mutex
	tokens       map[string]*tokenInfo
	secrets      []string
	deployments  []*deployment
	workItems    map[int][]*workItem // by queue id
	nextItem     int
	inflight     map[int]int
	lastOnRunner map[int64]*deployment // with ExclusiveRunners: each run-as user's latest deployment
	sessions     int                   // executions in flight, all tasks
	peak         int                   // most executions in flight at once
	nano         int64
	mfaStep      map[int]int64 // per user: the TOTP period of the last accepted code
	deliver      *simkit.Deliverer
}

type tokenInfo struct {
	userID   int
	multi    bool
	task     bool
	fileID   int
	expires  time.Time
	revoked  bool
	username string
}

// New builds a Server.
func New(o Options) *Server {
	if o.TokenLifetime <= 0 {
		o.TokenLifetime = 20 * time.Minute
	}
	if o.TaskTokenLifetime <= 0 {
		o.TaskTokenLifetime = 12 * time.Hour
	}
	for i := range o.APITasks {
		if o.APITasks[i].ConcurrencyLimit <= 0 {
			o.APITasks[i].ConcurrencyLimit = 2
		}
	}
	for i := range o.Bots {
		if o.Bots[i].Final == "" {
			o.Bots[i].Final = "COMPLETED"
		}
	}
	s := &Server{opts: o, tokens: map[string]*tokenInfo{}, inflight: map[int]int{}, lastOnRunner: map[int64]*deployment{}, mfaStep: map[int]int64{}, workItems: map[int][]*workItem{}}
	s.deliver = &simkit.Deliverer{Clock: o.Clock}
	for _, u := range o.Users {
		for _, secret := range []string{u.Password, u.APIKey, u.MFASecret} {
			if secret != "" {
				s.secrets = append(s.secrets, secret)
			}
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/authentication", s.login)
	mux.HandleFunc("POST /v2/authentication", s.v2(s.login))
	mux.HandleFunc("POST /v1/authentication/token", s.refresh)
	mux.HandleFunc("POST /v2/authentication/token", s.v2(s.refresh))
	mux.HandleFunc("GET /v1/authentication/token", s.validate)
	mux.HandleFunc("POST /v1/authentication/logout", s.logout)
	mux.HandleFunc("POST /orchestrator/v1/hotbot/config/accessdetails", s.accessDetails)
	mux.HandleFunc("POST /hotbot/{fileId}/execute", s.execute)
	mux.HandleFunc("POST /v4/automations/deploy", s.deploy)
	mux.HandleFunc("POST /v3/automations/deploy", s.deploy)
	mux.HandleFunc("POST /v3/activity/list", s.activityList)
	mux.HandleFunc("POST /v2/activity/list", s.activityList)
	mux.HandleFunc("POST /v3/activity/manage", s.manage)
	mux.HandleFunc("POST /v3/wlm/queues/list", s.wlmQueues)
	mux.HandleFunc("POST /v3/wlm/queues/{queueId}/workitems", s.wlmAdd)
	mux.HandleFunc("POST /v3/wlm/queues/{queueId}/workitems/list", s.wlmList)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeErr(w, http.StatusNotFound, "not.found", "no such Control Room endpoint: "+r.Method+" "+r.URL.Path)
	})
	s.handler = s.faults.Wrap(mux, s.writeErr)
	return s
}

// ServeHTTP serves the Control Room API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Counters counts calls: "login", "login.failed", "login.mfa.refused", "refresh", "validate",
// "logout", "accessdetails", "execute", "execute.rejected", "deploy",
// "deploy.queued" (deployed to a runner that was busy: it waits its turn),
// "activity.list", "activity.manage.stop" (every stop request),
// "activity.manage.stop.finished" (asked to stop a finished run), "wlm.queues",
// "wlm.add", "wlm.list", "http.401", and "token.expired" (a request carried a
// token past its exp).
func (s *Server) Counters() *simkit.Counters { return &s.counters }

// InFlight is how many real-time API Task executions run now.
func (s *Server) InFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

// PeakExecutions is the most real-time API Task executions that were in
// flight at once (refused ones are counted in "execute.rejected").
func (s *Server) PeakExecutions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// Faults injects outages, throttling, latency and 5xx in front of every endpoint.
func (s *Server) Faults() *simkit.Faults { return &s.faults }

// IssuedSecrets returns every token minted so far and every configured
// password, API key and two-factor seed, for tests that scan output for leaked secrets.
func (s *Server) IssuedSecrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.secrets...)
}

// RevokeAll invalidates every issued token, as an administrator could.
func (s *Server) RevokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		t.revoked = true
	}
}

func (s *Server) now() time.Time { return s.opts.Clock.Now() }

func (s *Server) v2(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.opts.DisableV2Auth {
			s.writeErr(w, http.StatusNotFound, "not.found", "no such Control Room endpoint: "+r.Method+" "+r.URL.Path)
			return
		}
		h(w, r)
	}
}

// mint issues a token; the caller holds s.mu.
func (s *Server) mint(info *tokenInfo, lifetime time.Duration) string {
	now := s.now()
	s.nano++
	info.expires = now.Add(lifetime)
	claims := map[string]any{
		"sub":           strconv.Itoa(info.userID),
		"clientType":    "WEB",
		"multipleLogin": info.multi,
		"iat":           now.Unix(),
		"exp":           info.expires.Unix(),
		"iss":           "AutomationAnywhere",
		"nanoTime":      now.UnixNano() + s.nano,
		"tenantUuid":    TenantUUID,
	}
	if info.task {
		claims["botId"] = info.fileID
	}
	tok := jwt.Mint(claims)
	s.tokens[tok] = info
	s.secrets = append(s.secrets, tok)
	return tok
}

// lookup returns the live token's info, or nil; the caller holds s.mu.
func (s *Server) lookup(tok string) *tokenInfo {
	info := s.tokens[tok]
	if info == nil || info.revoked {
		return nil
	}
	if !s.now().Before(info.expires) {
		s.counters.Inc("token.expired")
		return nil
	}
	return info
}

// authorize checks the X-Authorization header (a Control Room token) and
// writes the 401 itself when it fails.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) (*tokenInfo, bool) {
	tok := r.Header.Get("X-Authorization")
	if tok == "" {
		s.writeErr(w, http.StatusUnauthorized, "UM1117", "Access token expected in the 'X-Authorization' header")
		return nil, false
	}
	s.mu.Lock()
	info := s.lookup(tok)
	s.mu.Unlock()
	if info == nil || info.task {
		s.writeErr(w, http.StatusUnauthorized, "auth.token.invalid", "Authentication token is invalid or has expired; log in again")
		return nil, false
	}
	return info, true
}

// writeErr writes AA's {code,details,message} error body.
func (s *Server) writeErr(w http.ResponseWriter, status int, code, message string) {
	if status == http.StatusUnauthorized {
		s.counters.Inc("http.401")
	}
	writeJSON(w, status, map[string]any{"code": code, "details": nil, "message": message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// readJSON decodes a bounded request body; it writes the 400 itself.
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<20))
	if err := dec.Decode(v); err != nil {
		s.writeErr(w, http.StatusBadRequest, "generic.server.exception", "An unexpected problem occurred")
		return false
	}
	return true
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
}
