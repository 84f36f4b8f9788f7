package events

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/rpaflow/rpaflow/contract"
)

// Platform is where a profile's events come from.
type Platform string

// The platforms that send events.
const (
	UiPath Platform = "uipath"
	AA     Platform = "aa"
)

// Profile is one profile whose events this receiver accepts.
type Profile struct {
	Name     string
	Platform Platform
	// Secret is the UiPath webhook secret, or the key AA callback tokens
	// are derived from.
	Secret []byte
}

// Sink hands an event to Temporal. It returns only once the event is
// durable (or with an error). A sink that is also a BatchSink gets the
// deliveries that come together in one call.
type Sink interface {
	Deliver(ctx context.Context, profile string, r Routed) error
}

// Outcomes a receiver reports for each request (Observe).
const (
	OutcomeReceived  = "received"  // a request reached a known path
	OutcomeVerified  = "verified"  // its signature or token checked out
	OutcomeRefused   = "refused"   // answered 4xx/5xx; reason says why
	OutcomeDuplicate = "duplicate" // an event id seen before: acknowledged, not delivered again
	OutcomeIgnored   = "ignored"   // a verified event that ends no run (job.started, ping, …)
	OutcomeDelivered = "delivered" // one run's event handed to Temporal
)

// Reasons of OutcomeRefused.
const (
	ReasonUnknownProfile = "unknown_profile"
	ReasonMethod         = "method"
	ReasonTooLarge       = "too_large"
	ReasonUnsigned       = "unsigned"
	ReasonBadSignature   = "bad_signature"
	ReasonMalformed      = "malformed"
	ReasonStale          = "stale"
	ReasonUnavailable    = "unavailable"
)

// Options configure a receiver.
type Options struct {
	Profiles []Profile
	Sink     Sink
	// MaxBody bounds a request body (default 1 MiB).
	MaxBody int64
	// Window is how far a UiPath event's Timestamp may lie in the past
	// (default 30 minutes; Orchestrator retries a failed delivery for
	// minutes) or, by a fifth of it, in the future (clock skew). Older
	// ones are refused, so a captured event cannot be replayed later.
	Window time.Duration
	// Now is the receiver's clock (tests); nil is time.Now.
	Now func() time.Time
	// Observe, if set, is told each outcome (metrics).
	Observe func(platform Platform, profile, outcome, reason string)
	Logger  zerolog.Logger
	// DeliverTimeout bounds handing one request's events to Temporal
	// (default 10 s), waiting for a call that carries them included, well
	// inside the senders' own timeouts.
	DeliverTimeout time.Duration
}

// Receiver is the events HTTP handler.
type Receiver struct {
	o        Options
	profiles map[Platform]map[string]Profile
	seen     *seenSet
	batches  *coalescer // nil: the sink takes one event per call
}

// NewReceiver builds a receiver for o.
func NewReceiver(o Options) *Receiver {
	if o.MaxBody <= 0 {
		o.MaxBody = 1 << 20
	}
	if o.Window <= 0 {
		o.Window = 30 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.DeliverTimeout <= 0 {
		o.DeliverTimeout = 10 * time.Second
	}
	r := &Receiver{o: o, profiles: map[Platform]map[string]Profile{UiPath: {}, AA: {}},
		seen: &seenSet{max: 20000, ttl: o.Window + o.Window/5}}
	for _, p := range o.Profiles {
		r.profiles[p.Platform][p.Name] = p
	}
	if bs, ok := o.Sink.(BatchSink); ok {
		r.batches = &coalescer{sink: bs, timeout: o.DeliverTimeout}
	}
	return r
}

// Paths the receiver serves.
const (
	UiPathPath = contract.UiPathEventsPath
	AAPath     = "/events/aa/"
)

// ServeHTTP serves POST /events/uipath/<profile> and POST /events/aa/<profile>.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var platform Platform
	var name string
	switch {
	case strings.HasPrefix(r.URL.Path, UiPathPath):
		platform, name = UiPath, r.URL.Path[len(UiPathPath):]
	case strings.HasPrefix(r.URL.Path, AAPath):
		platform, name = AA, r.URL.Path[len(AAPath):]
	default:
		answer(w, http.StatusNotFound, "no such path; events are posted to /events/uipath/<profile> or /events/aa/<profile>")
		return
	}
	p, ok := rc.profiles[platform][name]
	if !ok {
		rc.refuse(w, platform, "", http.StatusNotFound, ReasonUnknownProfile,
			"no profile of this name receives "+string(platform)+" events here; check the URL's last segment and the profile's RPAFLOW_<NAME>_WEBHOOK_SECRET")
		return
	}
	rc.observe(platform, p.Name, OutcomeReceived, "")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		rc.refuse(w, platform, p.Name, http.StatusMethodNotAllowed, ReasonMethod, "events are sent with POST")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rc.o.MaxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			rc.refuse(w, platform, p.Name, http.StatusRequestEntityTooLarge, ReasonTooLarge, "the body is over the receiver's limit")
			return
		}
		rc.refuse(w, platform, p.Name, http.StatusBadRequest, ReasonMalformed, "the body could not be read")
		return
	}
	if platform == UiPath {
		rc.uipath(w, r, p, body)
	} else {
		rc.aa(w, r, p, body)
	}
}

func (rc *Receiver) uipath(w http.ResponseWriter, r *http.Request, p Profile, body []byte) {
	sig := r.Header.Get(SignatureHeader)
	if sig == "" {
		rc.refuse(w, UiPath, p.Name, http.StatusUnauthorized, ReasonUnsigned, "the request has no "+SignatureHeader+" header; give the webhook a secret in Orchestrator, the same as RPAFLOW_<NAME>_WEBHOOK_SECRET")
		return
	}
	if !VerifyUiPathSignature(p.Secret, body, sig) {
		rc.refuse(w, UiPath, p.Name, http.StatusUnauthorized, ReasonBadSignature, "the "+SignatureHeader+" header does not match the body; the webhook's secret in Orchestrator must equal RPAFLOW_<NAME>_WEBHOOK_SECRET")
		return
	}
	rc.observe(UiPath, p.Name, OutcomeVerified, "")
	ev, err := ParseUiPath(body)
	if err != nil {
		rc.refuse(w, UiPath, p.Name, http.StatusBadRequest, ReasonMalformed, err.Error())
		return
	}
	now := rc.o.Now()
	if ev.Timestamp.Before(now.Add(-rc.o.Window)) || ev.Timestamp.After(now.Add(rc.o.Window/5)) {
		rc.refuse(w, UiPath, p.Name, http.StatusBadRequest, ReasonStale, "the event's Timestamp is outside the receiver's replay window; check the clocks if this is a live event")
		return
	}
	rc.deliver(w, r, UiPath, p.Name, "uipath:"+ev.EventID, ev.Runs, now)
}

func (rc *Receiver) aa(w http.ResponseWriter, r *http.Request, p Profile, body []byte) {
	id, token := r.Header.Get(CallbackIDHeader), r.Header.Get(CallbackTokenHeader)
	if id == "" || token == "" {
		rc.refuse(w, AA, p.Name, http.StatusUnauthorized, ReasonUnsigned, "the request lacks the "+CallbackIDHeader+" and "+CallbackTokenHeader+" headers rpaflow puts in each deploy's callbackInfo")
		return
	}
	if !ValidCallbackID(id) || !VerifyCallbackToken(p.Secret, p.Name, id, token) {
		rc.refuse(w, AA, p.Name, http.StatusUnauthorized, ReasonBadSignature, "the callback token does not match its id; it was not issued by this profile's key (RPAFLOW_<NAME>_WEBHOOK_SECRET)")
		return
	}
	rc.observe(AA, p.Name, OutcomeVerified, "")
	cb, err := ParseAACallback(body)
	if err != nil {
		rc.refuse(w, AA, p.Name, http.StatusBadRequest, ReasonMalformed, err.Error())
		return
	}
	now := rc.o.Now()
	eventID := "aa:" + id + ":" + cb.Status
	runs := []Routed{{Subject: contract.SubjectDeployment, ID: id, Event: contract.RunEvent{EventID: eventID,
		Type: "aa.callback", State: cb.Status, RunID: cb.DeploymentID, Terminal: cb.Terminal}}}
	rc.deliver(w, r, AA, p.Name, eventID, runs, now)
}

// deliver hands runs to the sink, then answers 202. An event id already
// delivered is acknowledged without delivering it again.
func (rc *Receiver) deliver(w http.ResponseWriter, r *http.Request, platform Platform, profile, eventID string, runs []Routed, now time.Time) {
	key := profile + "\x00" + eventID
	if rc.seen.has(key, now) {
		rc.observe(platform, profile, OutcomeDuplicate, "")
		answerJSON(w, http.StatusAccepted, map[string]any{"accepted": 0, "duplicate": true})
		return
	}
	if len(runs) == 0 {
		rc.seen.add(key, now)
		rc.observe(platform, profile, OutcomeIgnored, "")
		answerJSON(w, http.StatusAccepted, map[string]any{"accepted": 0})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), rc.o.DeliverTimeout)
	defer cancel()
	for i := range runs {
		runs[i].Event.Received = now
	}
	if err := rc.hand(ctx, profile, runs); err != nil {
		rc.o.Logger.Warn().Str("platform", string(platform)).Str("profile", profile).Str("eventId", eventID).
			Int("runs", len(runs)).Err(err).Msg("event not handed to Temporal; answered 503")
		rc.refuse(w, platform, profile, http.StatusServiceUnavailable, ReasonUnavailable, "the event could not be stored; try again")
		return
	}
	for range runs {
		rc.observe(platform, profile, OutcomeDelivered, "")
	}
	rc.seen.add(key, now)
	rc.o.Logger.Debug().Str("platform", string(platform)).Str("profile", profile).Str("eventId", eventID).Int("runs", len(runs)).Msg("event accepted")
	answerJSON(w, http.StatusAccepted, map[string]any{"accepted": len(runs)})
}

// hand gives runs to the sink: through the coalescer when the sink takes
// batches, else one call per run.
func (rc *Receiver) hand(ctx context.Context, profile string, runs []Routed) error {
	if rc.batches != nil {
		return rc.batches.deliver(ctx, profile, runs)
	}
	for _, run := range runs {
		if err := rc.o.Sink.Deliver(ctx, profile, run); err != nil {
			return err
		}
	}
	return nil
}

func (rc *Receiver) refuse(w http.ResponseWriter, platform Platform, profile string, status int, reason, msg string) {
	rc.observe(platform, profile, OutcomeRefused, reason)
	if status >= 500 {
		w.Header().Set("Retry-After", "5")
	}
	rc.o.Logger.Info().Str("platform", string(platform)).Str("profile", profile).Str("reason", reason).Int("status", status).Msg("event refused")
	answer(w, status, msg)
}

func (rc *Receiver) observe(platform Platform, profile, outcome, reason string) {
	if rc.o.Observe != nil {
		rc.o.Observe(platform, profile, outcome, reason)
	}
}

func answer(w http.ResponseWriter, status int, msg string) {
	answerJSON(w, status, map[string]string{"error": msg})
}

func answerJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// seenSet remembers event ids for ttl, at most max of them (the oldest go
// first). Duplicates that outlive it still reach the run's events workflow,
// which drops ids it has seen.
type seenSet struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	at    map[string]time.Time
	order []string
}

func (s *seenSet) has(key string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.at[key]
	return ok && now.Sub(t) < s.ttl
}

func (s *seenSet) add(key string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.at == nil {
		s.at = map[string]time.Time{}
	}
	if _, ok := s.at[key]; !ok {
		s.order = append(s.order, key)
	}
	s.at[key] = now
	for len(s.order) > 0 && (len(s.order) > s.max || now.Sub(s.at[s.order[0]]) >= s.ttl) {
		delete(s.at, s.order[0])
		s.order = s.order[1:]
	}
}
