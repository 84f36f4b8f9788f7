package activities

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/contract/botvalue"
	"github.com/rpaflow/rpaflow/providers/apierror"
	aa "github.com/rpaflow/rpaflow/providers/automationanywhere"
	"github.com/rpaflow/rpaflow/session"
)

// DeployInput is AADeployBot's input: the deployment as the workflow took it.
type DeployInput struct {
	contract.DeployBotInput
	// Request is the provider request that workers before the contract
	// types scheduled; read so that their deploys in flight still run.
	Request *aa.DeployRequest `json:"request,omitempty"`
}

// deployRequest maps the input to the Control Room request.
func (in DeployInput) deployRequest() (aa.DeployRequest, error) {
	if in.Request != nil {
		return *in.Request, nil
	}
	botInput, err := in.Validate()
	if err != nil {
		return aa.DeployRequest{}, err
	}
	req := aa.DeployRequest{BotID: in.BotID, AutomationName: in.AutomationName, Description: in.Description,
		Priority: cmp.Or(in.Priority, contract.DefaultBotPriority), BotInput: botInput, RunAsUserIDs: in.RunAsUserIDs, PoolIDs: in.PoolIDs}
	if h := in.Headless; h != nil {
		req.Headless = &aa.HeadlessRequest{NumberOfExecutions: max(h.NumberOfExecutions, 1),
			QueueOnSlotsExhaustion: h.QueueOnSlotsExhaustion, SharedRunAsUserID: h.SharedRunAsUserID}
	}
	return req, nil
}

// Deployment is AADeployBot's answer. A deployment of this attempt travels
// as its id alone (a JSON string, as before adoption was reported), so a
// workflow worker of an earlier version still reads it.
type Deployment struct {
	ID string
	// Adopted: an earlier attempt made it and its answer was lost.
	Adopted bool
}

type adoptedDeployment struct {
	ID      string `json:"deploymentId"`
	Adopted bool   `json:"adopted"`
}

// MarshalJSON implements json.Marshaler.
func (d Deployment) MarshalJSON() ([]byte, error) {
	if !d.Adopted {
		return json.Marshal(d.ID)
	}
	return json.Marshal(adoptedDeployment(d))
}

// UnmarshalJSON reads both forms.
func (d *Deployment) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		*d = Deployment{}
		return json.Unmarshal(b, &d.ID)
	}
	var a adoptedDeployment
	err := json.Unmarshal(b, &a)
	*d = Deployment(a)
	return err
}

// AADeployBot deploys through the Control Room and returns the deployment.
// The automation name carries the activity's start key. An attempt whose
// own deploy lost its answer (a timeout, a reset, a 408 or 5xx after the
// request was sent) looks the key up in the activity list a few times and
// adopts the deployment it names. Not listed then is no proof (a new
// deployment is listed only after a while, and only the newest executions
// are read): a lost answer ends Ambiguous with what to check, and a 5xx
// (the Control Room said it failed) is retried. An attempt that finds an
// earlier attempt's "sent" mark looks the key up until the list's lag
// after the mark has passed (Lookups.ListGrace) and deploys only if it is
// still not listed. A 401 with the session's token is reported once and
// the deploy repeated (the Control Room refused it, so nothing was
// deployed).
func (a *AutomationAnywhere) AADeployBot(ctx context.Context, in DeployInput) (Deployment, error) {
	return a.deploy(ctx, in, nil)
}

// callbackRequest is where and with which headers the Control Room posts a
// deployment's end.
type callbackRequest struct {
	url     string
	headers map[string]string
}

func (a *AutomationAnywhere) deploy(ctx context.Context, in DeployInput, cb *callbackRequest) (Deployment, error) {
	c, err := a.Registry.AA(in.Profile)
	if err != nil {
		return Deployment{}, err
	}
	req, err := in.deployRequest()
	if err != nil {
		return Deployment{}, err
	}
	if cb != nil {
		req.Callback = &aa.Callback{URL: cb.url, Headers: cb.headers}
	}
	key := startKey(ctx)
	req.AutomationName = key.AutomationName(req.AutomationName)
	earlier, lookUp := earlierMark(ctx)
	ref := session.ControlRoom(in.Profile)
	var dep Deployment
	find := func(token string, own bool) lookup {
		return func() (bool, error) {
			act, err := c.ActivityNamed(ctx, token, key.NamedBy)
			if err != nil || act == nil {
				return false, err
			}
			dep = Deployment{ID: act.DeploymentID, Adopted: true}
			adopted(ctx, contract.DeployBotWorkflow, in.Profile, "deployment", own, "deploymentId", act.DeploymentID,
				"automationName", act.AutomationName, "status", act.Status)
			return true, nil
		}
	}
	err = withToken(ctx, a.Sessions, ref, func(tok contract.TokenResult) error {
		if lookUp {
			found, err := findUntil(ctx, find(tok.Token, false), earlier.At.Add(a.Lookups.listGrace()))
			if err != nil || found {
				return err
			}
			lookUp = false
			activity.GetLogger(ctx).Info("an earlier attempt sent the deploy, but no deployment carries its automation name; deploying",
				"attempt", activity.GetInfo(ctx).Attempt, "automationName", req.AutomationName, "sentAt", earlier.At)
		}
		mark, err := markSent(ctx, a.Marks)
		if err != nil {
			return err
		}
		id, err := c.Deploy(ctx, tok.Token, req)
		switch {
		case err == nil:
			dep = Deployment{ID: id}
			return nil
		case notRun(err):
			clearMark(ctx, a.Marks)
		case lostAnswer(err):
			reads, found, answered, lerr := a.Lookups.own(ctx, find(tok.Token, true))
			if found {
				return nil
			}
			looked := fmt.Sprintf("%d look-ups of the activity list found no execution named %q", reads, req.AutomationName)
			if !answered {
				looked = fmt.Sprintf("looking it up in the activity list failed (%v)", lerr)
			}
			if s := apierror.StatusOf(err); s >= 500 && s != http.StatusGatewayTimeout {
				return fmt.Errorf("%w; %s: the next attempt looks until %s after the send and deploys only if it is still not listed", err, looked, a.Lookups.listGrace())
			}
			return unknownOutcome(ctx, mark, infoOf(err),
				func(when string) string {
					return fmt.Sprintf("the deploy request for bot %d was sent %s and its answer was lost (%v); %s", req.BotID, when, err, looked)
				},
				"a new deployment is listed only after a while and only the newest executions are read, so that is no proof it was not made: "+
					"not deploying again, which could run the bot twice",
				fmt.Sprintf("in the Control Room's activity (in progress and historical), look for the automation name %q (bot %d, deployed by profile %s's user)",
					req.AutomationName, req.BotID, in.Profile),
				"If it is there, the bot was deployed once and its status is there; if not, start the workflow again.")
		}
		return fmt.Errorf("%w (the deployment's automation name is %q)", err, req.AutomationName)
	})
	return dep, classify(err, callKind{cachedToken: true, unsafe: true})
}

// findUntil looks a deployment up until it is found or until has passed
// (the activity list's lag after the deploy).
func findUntil(ctx context.Context, look lookup, until time.Time) (bool, error) {
	for {
		found, err := look()
		if err != nil || found || !time.Now().Before(until) {
			return found, err
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(min(2*time.Second, time.Until(until))):
		}
	}
}

// WaitDeploymentInput waits for a deployment to reach a terminal status.
type WaitDeploymentInput struct {
	Profile      string        `json:"profile"`
	DeploymentID string        `json:"deploymentId"`
	PollInitial  time.Duration `json:"pollInitial,omitempty"` // default 2s
	PollMax      time.Duration `json:"pollMax,omitempty"`     // default 30s
}

// DeploymentResult is a deployment's terminal state.
type DeploymentResult struct {
	DeploymentID string                    `json:"deploymentId"`
	Status       string                    `json:"status"`
	Message      string                    `json:"message,omitempty"`
	BotOutput    map[string]botvalue.Value `json:"botOutput,omitempty"`
}

// AAWaitDeployment polls the activity list in one heartbeating activity until
// the deployment is terminal. It survives a worker restart through its
// heartbeat and stops when the workflow is cancelled.
func (a *AutomationAnywhere) AAWaitDeployment(ctx context.Context, in WaitDeploymentInput) (DeploymentResult, error) {
	// The wait keeps its token between polls while it serves, whatever
	// sits behind a.Sessions.
	read, err := a.deploymentReader(in, &session.Cache{Next: a.Sessions})
	if err != nil {
		return DeploymentResult{}, err
	}
	var last *aa.Activity
	check := func(ctx context.Context) (string, bool, error) {
		act, err := read(ctx)
		if err != nil {
			return "", false, err
		}
		if act == nil {
			return "NOT_LISTED", false, nil // the documented race right after deploy
		}
		if last == nil || last.Status != act.Status {
			activity.GetLogger(ctx).Info("deployment status", "deploymentId", in.DeploymentID, "status", act.Status)
		}
		last = act
		return act.Status, isTerminalDeployment(act.Status), nil
	}
	o := pollOptions{profile: in.Profile, initial: orDefault(in.PollInitial, 2*time.Second),
		max: orDefault(in.PollMax, 30*time.Second), budget: a.Budget, maxFails: 20}
	if err := pollUntil(ctx, o, check); err != nil {
		return DeploymentResult{}, err
	}
	return deploymentResult(in.DeploymentID, last), nil
}

// deploymentReader reads the deployment's activity (nil while it is not
// listed yet), with errors classified.
func (a *AutomationAnywhere) deploymentReader(in WaitDeploymentInput, ss session.Source) (func(context.Context) (*aa.Activity, error), error) {
	c, err := a.Registry.AA(in.Profile)
	if err != nil {
		return nil, err
	}
	ref := session.ControlRoom(in.Profile)
	return func(ctx context.Context) (*aa.Activity, error) {
		var act *aa.Activity
		err := withToken(ctx, ss, ref, func(tok contract.TokenResult) (err error) {
			act, err = c.DeploymentActivity(ctx, tok.Token, in.DeploymentID)
			return err
		})
		if err != nil {
			return nil, classify(err, callKind{cachedToken: true})
		}
		return act, nil
	}, nil
}

func isTerminalDeployment(status string) bool { return aa.IsTerminal(status) }

func deploymentResult(id string, act *aa.Activity) DeploymentResult {
	return DeploymentResult{DeploymentID: id, Status: act.Status, Message: act.Message, BotOutput: act.BotOutput}
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
