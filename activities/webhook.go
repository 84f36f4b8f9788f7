package activities

import (
	"context"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/config"
	"github.com/rpaflow/rpaflow/internal/events"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator"
)

// OrchEnsureWebhook creates or updates the profile's Orchestrator webhook:
// the job and queue-item end events, posted to in.URL, signed with the
// profile's webhook secret, enabled. The secret never leaves the worker:
// the answer says only what was done. Repeating it is harmless, so a retry
// after a lost answer finds the webhook by its name.
func (a *Orchestrator) OrchEnsureWebhook(ctx context.Context, in contract.EnsureWebhookInput) (contract.EnsureWebhookResult, error) {
	if err := in.Validate(); err != nil {
		return contract.EnsureWebhookResult{}, err
	}
	c, err := a.Registry.Orchestrator(in.Profile)
	if err != nil {
		return contract.EnsureWebhookResult{}, err
	}
	s, ok := a.Registry.events[in.Profile]
	if !ok {
		v := config.EnvVar(in.Profile, "WEBHOOK_SECRET")
		return contract.EnsureWebhookResult{}, contract.InvalidInputError("profile",
			"%q has no webhook secret on this worker; set %s (or %s_FILE) on the workers to the secret Orchestrator is to sign with (16 to 100 characters), restart them, and run this again",
			in.Profile, v, v)
	}
	var res contract.EnsureWebhookResult
	err = a.withToken(ctx, in.Profile, func(token string) error {
		w, change, err := c.EnsureWebhook(ctx, token, orchestrator.WebhookSpec{Name: in.WebhookName(), URL: in.URL,
			Secret: string(s.key), Events: events.UiPathSubscriptions})
		if err != nil {
			return err
		}
		res = contract.EnsureWebhookResult{ID: w.ID, Name: w.Name, URL: w.URL, Enabled: w.Enabled, Events: w.Events,
			Outcome: contract.WebhookUnchanged}
		switch {
		case change.Created:
			res.Outcome = contract.WebhookCreated
		case len(change.Changed) > 0:
			res.Outcome, res.Changed = contract.WebhookUpdated, change.Changed
		}
		return nil
	})
	return res, classify(err, callKind{cachedToken: true})
}

// PingWebhookInput names a webhook to ping.
type PingWebhookInput struct {
	Profile string `json:"profile"`
	ID      int64  `json:"id"`
}

// OrchPingWebhook asks Orchestrator to send the webhook a ping event. It
// only queues it; the receiver's metrics tell whether it arrived.
func (a *Orchestrator) OrchPingWebhook(ctx context.Context, in PingWebhookInput) error {
	c, err := a.Registry.Orchestrator(in.Profile)
	if err != nil {
		return err
	}
	err = a.withToken(ctx, in.Profile, func(token string) error { return c.PingWebhook(ctx, token, in.ID) })
	return classify(err, callKind{cachedToken: true})
}
