package orchestrator

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/rpaflow/rpaflow/providers/apierror"
)

// WebhookSpec is the tenant webhook rpaflow needs: where to post, the
// secret to sign with, and the events.
type WebhookSpec struct {
	Name   string
	URL    string
	Secret string
	Events []string
}

// Webhook is a tenant webhook as Orchestrator lists it (without its secret).
type Webhook struct {
	ID      int64
	Name    string
	URL     string
	Enabled bool
	Events  []string
}

type webhookEvent struct {
	EventType string `json:"EventType"`
}

type webhookDTO struct {
	ID                   int64          `json:"Id,omitempty"`
	Name                 string         `json:"Name"`
	URL                  string         `json:"Url"`
	Enabled              bool           `json:"Enabled"`
	Secret               string         `json:"Secret,omitempty"`
	SubscribeToAllEvents bool           `json:"SubscribeToAllEvents"`
	AllowInsecureSsl     bool           `json:"AllowInsecureSsl"`
	Events               []webhookEvent `json:"Events"`
}

func (d webhookDTO) webhook() Webhook {
	w := Webhook{ID: d.ID, Name: d.Name, URL: d.URL, Enabled: d.Enabled}
	for _, e := range d.Events {
		w.Events = append(w.Events, e.EventType)
	}
	return w
}

// WebhookChange says what EnsureWebhook did: created the webhook, or
// updated it, changing Changed (url, enabled, events, allowInsecureSsl,
// name: its case); an update that changed nothing visible still wrote the
// secret, which Orchestrator never shows.
type WebhookChange struct {
	Created bool
	Changed []string
}

// EnsureWebhook creates the webhook named spec.Name, or updates it (URL,
// secret, events, enabled) when it exists. Webhooks are per tenant: no
// folder is involved. Repeating it is harmless.
func (c *Client) EnsureWebhook(ctx context.Context, token string, spec WebhookSpec) (Webhook, WebhookChange, error) {
	switch {
	case strings.TrimSpace(spec.Name) == "" || len(spec.Name) > 128:
		return Webhook{}, WebhookChange{}, apierror.Invalid("name", "must be 1 to 128 characters")
	case !strings.HasPrefix(spec.URL, "https://") && !strings.HasPrefix(spec.URL, "http://"), len(spec.URL) > 2000:
		return Webhook{}, WebhookChange{}, apierror.Invalid("url", "must be an absolute http(s) URL of at most 2000 characters")
	case spec.Secret == "" || len(spec.Secret) > 100:
		return Webhook{}, WebhookChange{}, apierror.Invalid("secret", "must be 1 to 100 characters (Orchestrator's limit)")
	case len(spec.Events) == 0:
		return Webhook{}, WebhookChange{}, apierror.Invalid("events", "is empty; name the events to subscribe to")
	}
	h, err := bearer(token)
	if err != nil {
		return Webhook{}, WebhookChange{}, err
	}
	var page struct{ Value []webhookDTO }
	q := query("$filter", "Name eq "+odataLiteral(spec.Name), "$top", "10")
	if _, err := c.caller.JSON(ctx, "webhooks", http.MethodGet, c.orchURL+"/odata/Webhooks?"+q, h, nil, &page); err != nil {
		return Webhook{}, WebhookChange{}, err
	}
	body := webhookDTO{Name: spec.Name, URL: spec.URL, Enabled: true, Secret: spec.Secret}
	for _, e := range spec.Events {
		body.Events = append(body.Events, webhookEvent{EventType: e})
	}
	var out webhookDTO
	for _, w := range page.Value {
		if strings.EqualFold(w.Name, spec.Name) {
			change := WebhookChange{Changed: w.differences(body)}
			body.ID = w.ID
			if _, err := c.caller.JSON(ctx, "webhookUpdate", http.MethodPut, c.orchURL+"/odata/Webhooks("+strconv.FormatInt(w.ID, 10)+")", h, body, &out); err != nil {
				return Webhook{}, change, err
			}
			if out.ID == 0 {
				out = body
			}
			return out.webhook(), change, nil
		}
	}
	if _, err := c.caller.JSON(ctx, "webhookCreate", http.MethodPost, c.orchURL+"/odata/Webhooks", h, body, &out); err != nil {
		return Webhook{}, WebhookChange{Created: true}, err
	}
	return out.webhook(), WebhookChange{Created: true}, nil
}

// differences lists what writing want over w changes, but the secret.
func (w webhookDTO) differences(want webhookDTO) []string {
	var out []string
	if w.Name != want.Name {
		out = append(out, "name")
	}
	if w.URL != want.URL {
		out = append(out, "url")
	}
	if w.Enabled != want.Enabled {
		out = append(out, "enabled")
	}
	have := map[string]bool{}
	for _, e := range w.Events {
		have[strings.ToLower(e.EventType)] = true
	}
	same := !w.SubscribeToAllEvents && len(have) == len(want.Events)
	for _, e := range want.Events {
		same = same && have[strings.ToLower(e.EventType)]
	}
	if !same {
		out = append(out, "events")
	}
	if w.AllowInsecureSsl != want.AllowInsecureSsl {
		out = append(out, "allowInsecureSsl")
	}
	return out
}

// PingWebhook asks Orchestrator to send the webhook a ping event. It only
// queues the event: whether it arrived is seen at the receiver.
func (c *Client) PingWebhook(ctx context.Context, token string, id int64) error {
	if id <= 0 {
		return apierror.Invalid("id", "is %d; give the webhook's Id", id)
	}
	h, err := bearer(token)
	if err != nil {
		return err
	}
	_, err = c.caller.JSON(ctx, "webhookPing", http.MethodPost,
		c.orchURL+"/odata/Webhooks("+strconv.FormatInt(id, 10)+")/UiPath.Server.Configuration.OData.Ping", h, map[string]any{}, nil)
	return err
}
