package orchsim

import (
	"encoding/json"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/rpaflow/rpaflow/providers/internal/jwt"
)

// tokenInfo is what the simulator remembers about an access token.
type tokenInfo struct {
	expiry time.Time
	scopes []string
	user   bool // ROPC tokens carry the user's full rights
}

type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func (s *Server) oauthFail(w http.ResponseWriter, code, desc string) {
	s.counters.Inc("token.failed")
	b, _ := json.Marshal(oauthError{Error: code, Description: desc})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write(b)
}

// token is the identity server's client-credentials grant. Unknown and
// empty form fields are ignored, as uipathcli sends several.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		s.oauthFail(w, "invalid_request", "the token request must be application/x-www-form-urlencoded")
		return
	}
	if err := r.ParseForm(); err != nil {
		s.oauthFail(w, "invalid_request", "the form body cannot be parsed")
		return
	}
	grant := r.PostForm.Get("grant_type")
	switch grant {
	case "client_credentials":
	case "":
		s.oauthFail(w, "invalid_request", "grant_type is missing")
		return
	default:
		s.oauthFail(w, "unsupported_grant_type", "")
		return
	}
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if bid, bsecret, ok := r.BasicAuth(); ok && id == "" {
		id, secret = bid, bsecret
	}
	app, ok := s.apps[id]
	if !ok || id == "" || secret != app.ClientSecret {
		s.oauthFail(w, "invalid_client", "")
		return
	}
	requested := strings.Fields(r.PostForm.Get("scope"))
	if len(requested) == 0 {
		requested = append(requested, app.Scopes...)
	}
	if !scopesAllowed(requested, app.Scopes) {
		s.oauthFail(w, "invalid_scope", "")
		return
	}
	now := s.clock.Now()
	exp := now.Add(s.tokenLifetime)
	tok := jwt.Mint(map[string]any{
		"iss": "https://" + r.Host + "/identity_", "aud": "UiPath.Orchestrator",
		"sub": id, "sub_type": "service.external", "client_id": id, "scope": requested,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": exp.Unix(), "jti": newUUID(),
	})
	s.remember(tok, tokenInfo{expiry: exp, scopes: requested})
	s.counters.Inc("token")
	writeJSONPlain(w, struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		TokenType   string `json:"token_type"`
		Scope       string `json:"scope"`
	}{tok, int64(s.tokenLifetime / time.Second), "Bearer", strings.Join(requested, " ")})
}

// scopesAllowed checks every requested scope is granted. offline_access is
// refused (no refresh tokens for client credentials), and so is asking for
// X, X.Read and X.Write at once, as UiPath Identity does.
func scopesAllowed(requested, granted []string) bool {
	for _, sc := range requested {
		if sc == "offline_access" || !slices.Contains(granted, sc) {
			return false
		}
		if slices.Contains(requested, sc+".Read") && slices.Contains(requested, sc+".Write") {
			return false
		}
	}
	return true
}

func (s *Server) remember(tok string, info tokenInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[tok] = info
	s.issued = append(s.issued, tok)
}

func writeJSONPlain(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// abpResult is the ROPC success envelope, in its wire order.
type abpResult struct {
	Result              string  `json:"result"`
	TargetURL           *string `json:"targetUrl"`
	Success             bool    `json:"success"`
	Error               *string `json:"error"`
	UnAuthorizedRequest bool    `json:"unAuthorizedRequest"`
	ABP                 bool    `json:"__abp"`
}

// ropc is the legacy /api/Account/Authenticate login; field names bind in
// any case.
func (s *Server) ropc(req *request) {
	fail := func() {
		s.counters.Inc("token.failed")
		writeError(req.w, http.StatusBadRequest, 1000, "Invalid credentials, failed to login.")
	}
	body, err := readObject(req.r)
	if err != nil {
		fail()
		return
	}
	tenancy, ok1 := stringField(body, "tenancyName")
	username, ok2 := stringField(body, "usernameOrEmailAddress")
	password, ok3 := stringField(body, "password")
	if !ok1 || !ok2 || !ok3 || username == "" || password == "" {
		fail()
		return
	}
	if tenancy == "" {
		tenancy = "Default"
		if req.tenantInURL {
			tenancy = s.tenant
		}
	}
	var user *User
	for i, u := range s.users {
		if strings.EqualFold(u.Username, username) && u.Password == password &&
			(u.TenancyName == "" || strings.EqualFold(u.TenancyName, tenancy)) {
			user = &s.users[i]
			break
		}
	}
	if user == nil {
		fail()
		return
	}
	now := s.clock.Now()
	exp := now.Add(s.ropcLifetime)
	tok := jwt.Mint(map[string]any{
		"iss": "https://" + req.r.Host, "sub": user.Username, "tenancy": tenancy,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": exp.Unix(), "jti": newUUID(),
	})
	s.remember(tok, tokenInfo{expiry: exp, user: true})
	s.counters.Inc("ropc")
	writeJSON(req.w, http.StatusOK, abpResult{Result: tok, Success: true, ABP: true})
}
