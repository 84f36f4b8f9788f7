// Package hubsim is an in-process simulator of the UiPath Automation Hub
// Open API in token mode, served as a plain http.Handler. It serves
// {any prefix}/api/v1/openapi/authinfo and /users with the hub's
// {"message","statusCode","data"} envelope.
package hubsim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rpaflow/rpaflow/providers/simkit"
)

// Token is an Open API token as the Admin Console lists it.
type Token struct {
	TenantID string
	Token    string
	AppKey   string    // when set, callers must send it in x-ah-openapi-app-key
	Expires  time.Time // zero: never
	Active   bool
}

// Options configure a Server.
type Options struct {
	Tokens []Token
	Clock  simkit.Clock
}

// Demo credentials of DefaultOptions.
const (
	DemoTenantID = "5f0b9d7e-2c41-4a8e-b3d6-91e4c7a25f30"
	DemoToken    = "a7c3e1f9-6b2d-48a0-9e57-d14f8b3c62aa"
	DemoAppKey   = "rpaflow-demo-app-key"
)

// DefaultOptions is the demo token: active, expiring 30 days from now.
func DefaultOptions() Options {
	return Options{Tokens: []Token{{TenantID: DemoTenantID, Token: DemoToken, AppKey: DemoAppKey,
		Expires: time.Now().Add(30 * 24 * time.Hour), Active: true}}}
}

// Server is the simulator. It is safe for concurrent use.
type Server struct {
	clock    simkit.Clock
	counters simkit.Counters
	faults   simkit.Faults
	handler  http.Handler

	mu     sync.Mutex
	tokens map[string]*Token // by token value
}

// New builds a Server.
func New(o Options) *Server {
	s := &Server{clock: o.Clock, tokens: map[string]*Token{}}
	for _, t := range o.Tokens {
		t := t
		s.tokens[t.Token] = &t
	}
	s.handler = s.faults.Wrap(http.HandlerFunc(s.route), func(w http.ResponseWriter, status int, _, message string) {
		writeEnvelope(w, status, message, nil)
	})
	return s
}

// ServeHTTP serves the Open API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Counters are the call counts: "authinfo", "users", "http.401".
func (s *Server) Counters() *simkit.Counters { return &s.counters }

// Faults injects outages, throttling, latency and 5xx.
func (s *Server) Faults() *simkit.Faults { return &s.faults }

// SetExpiry changes a token's expiry, as editing it in the Admin Console does.
func (s *Server) SetExpiry(token string, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tk, ok := s.tokens[token]; ok {
		tk.Expires = t
	}
}

// SetActive toggles a token's Active switch.
func (s *Server) SetActive(token string, active bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tk, ok := s.tokens[token]; ok {
		tk.Active = active
	}
}

const openAPIPath = "/api/v1/openapi/"

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	i := strings.Index(r.URL.Path, openAPIPath)
	if i < 0 {
		writeEnvelope(w, http.StatusNotFound, "Not Found", nil)
		return
	}
	endpoint := strings.Trim(r.URL.Path[i+len(openAPIPath):], "/")
	if endpoint != "authinfo" && endpoint != "users" {
		writeEnvelope(w, http.StatusNotFound, "Not Found", nil)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeEnvelope(w, http.StatusMethodNotAllowed, "Method Not Allowed", nil)
		return
	}
	tok, why := s.authenticate(r)
	if tok == nil {
		s.counters.Inc("http.401")
		writeEnvelope(w, http.StatusUnauthorized, why, nil)
		return
	}
	s.counters.Inc(endpoint)
	if endpoint == "authinfo" {
		s.authinfo(w, *tok)
		return
	}
	s.users(w, r)
}

// authenticate checks the token-mode headers and returns a copy of the
// token, or why it was refused (never echoing the credentials).
func (s *Server) authenticate(r *http.Request) (*Token, string) {
	if r.Header.Get("x-ah-openapi-auth") != "openapi-token" {
		return nil, "Unauthorized: the x-ah-openapi-auth: openapi-token header is required for Open API tokens."
	}
	scheme, cred, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	tenant, value, ok := strings.Cut(strings.TrimSpace(cred), "/")
	if !strings.EqualFold(scheme, "Bearer") || !ok || tenant == "" || value == "" {
		return nil, "Unauthorized: send Authorization: Bearer {Tenant ID}/{Token}."
	}
	s.mu.Lock()
	tk, found := s.tokens[value]
	var t Token
	if found {
		t = *tk
	}
	s.mu.Unlock()
	switch {
	case !found || t.TenantID != tenant:
		return nil, "Unauthorized: the token is not valid for this tenant."
	case !t.Active:
		return nil, "Unauthorized: the token is inactive; activate it in Admin Console > Platform Setup > Open API."
	case !t.Expires.IsZero() && !s.clock.Now().Before(t.Expires):
		return nil, "Unauthorized: the token has expired; edit its expiry date or generate a new token."
	case t.AppKey != "" && r.Header.Get("x-ah-openapi-app-key") != t.AppKey:
		return nil, "Unauthorized: the token requires its App Key in x-ah-openapi-app-key."
	}
	return &t, ""
}

func (s *Server) authinfo(w http.ResponseWriter, t Token) {
	data := map[string]any{
		"tenant_id":        t.TenantID,
		"token_type":       "tenant",
		"active":           t.Active,
		"app_key_required": t.AppKey != "",
		"expires_at":       nil,
	}
	if !t.Expires.IsZero() {
		data["expires_at"] = t.Expires.UTC().Format(time.RFC3339)
	}
	writeEnvelope(w, http.StatusOK, "Success", data)
}

type user struct {
	Email        string `json:"user_email"`
	FirstName    string `json:"user_first_name"`
	LastName     string `json:"user_last_name"`
	Location     string `json:"user_location"`
	Department   string `json:"user_department"`
	BusinessUnit string `json:"user_business_unit"`
	JobTitle     string `json:"user_job_title"`
	IsActive     int    `json:"user_is_active"`
	InviteStatus int    `json:"user_invite_status"`
	Roles        []role `json:"user_roles"`
}

type role struct {
	RoleID     int `json:"role_id"`
	CategoryID int `json:"category_id"`
}

var demoUsers = []user{
	{Email: "ada.admin@rpaflow.example", FirstName: "Ada", LastName: "Admin", Location: "Lisbon", Department: "CoE",
		BusinessUnit: "Automation", JobTitle: "Program Manager", IsActive: 1, InviteStatus: 3, Roles: []role{{RoleID: 1}}},
	{Email: "ben.builder@rpaflow.example", FirstName: "Ben", LastName: "Builder", Location: "Porto", Department: "Engineering",
		BusinessUnit: "Product", JobTitle: "Developer", IsActive: 1, InviteStatus: 2, Roles: []role{{RoleID: 6}}},
	{Email: "cleo.citizen@rpaflow.example", FirstName: "Cleo", LastName: "Citizen", Location: "Faro", Department: "Finance",
		BusinessUnit: "Operations", JobTitle: "Analyst", IsActive: 0, InviteStatus: 0, Roles: []role{{RoleID: 7}}},
}

// users is GET /users?s=&limit=&offset=, a paged list in the documented shape.
func (s *Server) users(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	search := strings.ToLower(q.Get("s"))
	var match []user
	for _, u := range demoUsers {
		if search == "" || strings.Contains(strings.ToLower(u.Email+" "+u.FirstName+" "+u.LastName), search) {
			match = append(match, u)
		}
	}
	total := len(match)
	offset, _ := strconv.Atoi(q.Get("offset"))
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit <= 0 {
		limit = 50
	}
	offset = min(max(offset, 0), total)
	match = match[offset:min(offset+limit, total)]
	if match == nil {
		match = []user{}
	}
	writeEnvelope(w, http.StatusOK, "Success", map[string]any{
		"page": offset/limit + 1, "pageSize": len(match), "totalItems": total,
		"totalPages": (total + limit - 1) / limit, "users": match,
	})
}

// envelope is the hub's answer shape, in its wire order.
type envelope struct {
	Message    string `json:"message"`
	StatusCode int    `json:"statusCode"`
	Data       any    `json:"data,omitempty"`
}

func writeEnvelope(w http.ResponseWriter, status int, message string, data any) {
	b, _ := json.Marshal(envelope{Message: message, StatusCode: status, Data: data})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
