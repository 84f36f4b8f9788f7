package activities

import (
	"context"
	"time"

	"github.com/rpaflow/rpaflow/contract"
)

// AutomationHub holds the Automation Hub activities.
type AutomationHub struct {
	Registry *Registry
}

// HubCheck is one validation of an Automation Hub Open API token.
type HubCheck struct {
	Valid     bool      `json:"valid"`
	Rejected  bool      `json:"rejected"` // the Hub answered 401/403: expired, inactive or wrong App Key
	Message   string    `json:"message,omitempty"`
	Expires   time.Time `json:"expires,omitzero"` // the configured _TOKEN_EXPIRES
	CheckedAt time.Time `json:"checkedAt"`
}

// HubValidateToken makes one cheap authenticated call. A rejection is a
// result, not an error, so the watch can report it; transient failures are
// errors and are retried.
func (a *AutomationHub) HubValidateToken(ctx context.Context, profile string) (HubCheck, error) {
	p, err := a.Registry.Hub(profile)
	if err != nil {
		return HubCheck{}, err
	}
	check := HubCheck{Expires: p.Expires, CheckedAt: time.Now().UTC()}
	if _, err := p.Client.Validate(ctx); err != nil {
		switch contract.TypeOf(classify(err, callKind{})) {
		case contract.ErrAuthFailed, contract.ErrForbidden, contract.ErrTokenRejected:
			check.Rejected = true
			check.Message = err.Error()
			return check, nil
		}
		return HubCheck{}, classify(err, callKind{})
	}
	check.Valid = true
	return check, nil
}
