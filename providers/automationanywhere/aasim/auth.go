package aasim

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

type loginRequest struct {
	Username      string `json:"username"`
	Password      string `json:"password"`
	APIKey        string `json:"apiKey"`
	MultipleLogin bool   `json:"multipleLogin"`
	// MFACode is documented as an integer; anything else is refused, so
	// a client sending a string is caught.
	MFACode json.RawMessage `json:"mfaCode"`
}

// login serves /v1 and /v2 authentication (same bodies).
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	s.counters.Inc("login")
	var req loginRequest
	if !s.readJSON(w, r, &req) {
		s.counters.Inc("login.failed")
		return
	}
	if req.Username == "" || (req.Password == "") == (req.APIKey == "") {
		s.counters.Inc("login.failed")
		s.writeErr(w, http.StatusBadRequest, "generic.server.exception", "An unexpected problem occurred")
		return
	}
	var user *User
	for i := range s.opts.Users {
		u := &s.opts.Users[i]
		if u.Username != req.Username {
			continue
		}
		if (req.APIKey != "" && u.APIKey != "" && equal(u.APIKey, req.APIKey)) ||
			(req.Password != "" && u.Password != "" && equal(u.Password, req.Password)) {
			user = u
		}
		break
	}
	if user == nil {
		s.counters.Inc("login.failed")
		s.writeErr(w, http.StatusUnauthorized, "auth.credentials.invalid", "Invalid username, password or API key")
		return
	}
	if user.MFASecret != "" && !s.checkMFA(w, user, req.MFACode) {
		s.counters.Inc("login.failed")
		s.counters.Inc("login.mfa.refused")
		return
	}
	// Several sessions need the user's permission; password logins must also ask for it.
	multi := user.MultipleLogin && (req.MultipleLogin || req.APIKey != "")
	s.mu.Lock()
	if !multi {
		// Single-session users lose their older sessions.
		for _, t := range s.tokens {
			if !t.task && t.userID == user.ID {
				t.revoked = true
			}
		}
	}
	tok := s.mint(&tokenInfo{userID: user.ID, multi: multi, username: user.Username}, s.opts.TokenLifetime)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"token": tok,
		"user": map[string]any{
			"id": user.ID, "username": user.Username, "email": "", "domain": nil,
			"firstName": "", "lastName": "", "version": 1, "principalId": user.ID,
			"deleted": false, "roles": []map[string]any{{"name": "AAE_Basic", "id": 1, "version": 0}},
		},
	})
}

// refresh issues a new token for a live one; the old one stays valid until its exp.
func (s *Server) refresh(w http.ResponseWriter, r *http.Request) {
	s.counters.Inc("refresh")
	if _, ok := s.authorize(w, r); !ok {
		return
	}
	var req struct {
		Token string `json:"token"`
	}
	if !s.readJSON(w, r, &req) {
		return
	}
	var tok string
	s.mu.Lock()
	if info := s.lookup(req.Token); info != nil && !info.task {
		tok = s.mint(&tokenInfo{userID: info.userID, multi: info.multi, username: info.username}, s.opts.TokenLifetime)
	}
	s.mu.Unlock()
	if tok == "" {
		s.writeErr(w, http.StatusUnauthorized, "auth.token.invalid", "The token to refresh is invalid or has expired; log in again")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": tok})
}

// validate answers {"valid":bool} for ?token= (or the header token when absent).
func (s *Server) validate(w http.ResponseWriter, r *http.Request) {
	s.counters.Inc("validate")
	if _, ok := s.authorize(w, r); !ok {
		return
	}
	tok := r.URL.Query().Get("token")
	if tok == "" {
		tok = r.Header.Get("X-Authorization")
	}
	s.mu.Lock()
	info := s.lookup(tok)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]bool{"valid": info != nil && !info.task})
}

// logout invalidates the body token, or the header token when the body has none.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	s.counters.Inc("logout")
	if _, ok := s.authorize(w, r); !ok {
		return
	}
	var req struct {
		Token string `json:"token"`
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if len(bytes.TrimSpace(body)) > 0 && json.Unmarshal(body, &req) != nil {
		s.writeErr(w, http.StatusBadRequest, "generic.server.exception", "An unexpected problem occurred")
		return
	}
	tok := req.Token
	if tok == "" {
		tok = r.Header.Get("X-Authorization")
	}
	s.mu.Lock()
	if t := s.tokens[tok]; t != nil {
		t.revoked = true
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// checkMFA accepts a TOTP code of the user's seed for the server's current
// period or one either side, once: a replayed code (or an older one) is
// refused. It writes the refusal itself.
func (s *Server) checkMFA(w http.ResponseWriter, u *User, raw json.RawMessage) bool {
	if len(bytes.TrimSpace(raw)) == 0 || string(raw) == "null" {
		s.writeErr(w, http.StatusUnauthorized, "auth.mfa.required", "Two-factor authentication is enabled for this user: the login needs an mfaCode")
		return false
	}
	var n int64
	if json.Unmarshal(raw, &n) != nil || n < 0 {
		s.writeErr(w, http.StatusBadRequest, "generic.server.exception", "An unexpected problem occurred")
		return false
	}
	digits, period := u.MFADigits, u.MFAPeriod
	if digits == 0 {
		digits = 6
	}
	if period <= 0 {
		period = 30 * time.Second
	}
	code := fmt.Sprintf("%0*d", digits, n) // a leading zero is lost in a JSON number
	secs := int64(period / time.Second)
	now := s.now().Unix() / secs
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, step := range []int64{now, now - 1, now + 1} {
		want, err := hotp.GenerateCodeCustom(u.MFASecret, uint64(step), hotp.ValidateOpts{Digits: otp.Digits(digits), Algorithm: otp.AlgorithmSHA1})
		if err != nil || !equal(want, code) {
			continue
		}
		if step <= s.mfaStep[u.ID] {
			s.writeErr(w, http.StatusUnauthorized, "auth.mfa.invalid", "The two-factor authentication code was already used; wait for the next one")
			return false
		}
		s.mfaStep[u.ID] = step
		return true
	}
	s.writeErr(w, http.StatusUnauthorized, "auth.mfa.invalid", "Invalid two-factor authentication code")
	return false
}
