package contract

import (
	"net"
	"net/url"
	"strings"
)

// EnsureWebhookWorkflow creates or updates the Orchestrator webhook that
// posts a profile's job and queue-item ends to rpaflow's events receiver,
// signed with the profile's webhook secret, and optionally pings it. The
// worker does it: it holds the profile's credentials and secret, which the
// caller never sees.
const EnsureWebhookWorkflow = "EnsureWebhook"

// EnsureWebhookID is the workflow ID of a profile's EnsureWebhook: one at a
// time per profile.
func EnsureWebhookID(profile string) string { return "webhook-ensure:" + profile }

// UiPathEventsPath is the receiver's path for a UiPath profile's webhooks:
// UiPathEventsPath + profile.
const UiPathEventsPath = "/events/uipath/"

// What EnsureWebhook did to the webhook.
const (
	WebhookCreated = "created"
	WebhookUpdated = "updated"
	// WebhookUnchanged: its URL, events and state were already as asked.
	// The secret is written again anyway, as Orchestrator never shows it.
	WebhookUnchanged = "unchanged"
)

// EnsureWebhookInput is the input of EnsureWebhookWorkflow.
type EnsureWebhookInput struct {
	Profile string `json:"profile"`
	// URL is where Orchestrator posts: the HTTPS ingress in front of the
	// receiver, ending in /events/uipath/<profile>.
	URL string `json:"url"`
	// Name is the webhook's name in Orchestrator, how it is found again;
	// default rpaflow-<profile>.
	Name string `json:"name,omitempty"`
	// Ping asks Orchestrator to send the webhook a ping event afterwards.
	Ping bool `json:"ping,omitempty"`
}

// EnsureWebhookResult tells what EnsureWebhookWorkflow did; nothing in it
// is secret.
type EnsureWebhookResult struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	URL     string `json:"url"`
	Outcome string `json:"outcome"` // WebhookCreated, WebhookUpdated or WebhookUnchanged
	// Changed lists what an update changed: url, enabled, events.
	Changed []string `json:"changed,omitempty"`
	Enabled bool     `json:"enabled"`
	Events  []string `json:"events"`
	// Pinged: Orchestrator accepted the ping. It only queues the event; the
	// receiver's metrics tell whether it arrived.
	Pinged bool `json:"pinged,omitempty"`
}

// WebhookName is the name of the webhook in, its default filled in.
func (in EnsureWebhookInput) WebhookName() string {
	if in.Name != "" {
		return in.Name
	}
	return "rpaflow-" + in.Profile
}

// Validate checks the input. The URL must be https, but for a loopback
// host (127.0.0.1, ::1, localhost), which may be http: Orchestrator posts
// events across the internet, and only a receiver on the same machine
// (tests, simulators) is safe without TLS.
func (in EnsureWebhookInput) Validate() error {
	if err := ValidateProfile(in.Profile); err != nil {
		return err
	}
	if n := len(in.WebhookName()); n > 128 || strings.TrimSpace(in.WebhookName()) == "" {
		return InvalidInputError("name", "is %d characters long; give 1 to 128 (Orchestrator's limit), or leave it out for rpaflow-%s", n, in.Profile)
	}
	want := UiPathEventsPath + in.Profile
	example := "https://rpa-events.example.com" + want
	if in.URL == "" {
		return InvalidInputError("url", "is empty; give the public URL of the events receiver for this profile, e.g. %s", example)
	}
	if len(in.URL) > 2000 {
		return InvalidInputError("url", "is %d characters long; Orchestrator accepts at most 2000", len(in.URL))
	}
	u, err := url.Parse(in.URL)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return InvalidInputError("url", "%q is not an absolute URL; give one like %s", in.URL, example)
	case u.User != nil:
		return InvalidInputError("url", "holds a user name or password; the receiver checks the webhook's signature instead, so leave them out")
	case u.RawQuery != "" || u.Fragment != "":
		return InvalidInputError("url", "has a query or fragment; give the receiver's path alone, e.g. %s", example)
	case u.Scheme == "http" && !loopback(u.Hostname()):
		return InvalidInputError("url", "%q is http; Orchestrator posts over the internet, so give the https URL of your ingress (http is accepted for loopback hosts only)", in.URL)
	case u.Scheme != "https" && u.Scheme != "http":
		return InvalidInputError("url", "has scheme %q; give an https URL, e.g. %s", u.Scheme, example)
	case !strings.HasSuffix(u.Path, want):
		return InvalidInputError("url", "path %q does not end with %s, the receiver's path for profile %s; give e.g. %s", u.Path, want, in.Profile, example)
	}
	return nil
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
