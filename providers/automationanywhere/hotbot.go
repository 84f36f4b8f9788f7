package automationanywhere

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rpaflow/rpaflow/contract/botvalue"
	"github.com/rpaflow/rpaflow/providers/apierror"
	"github.com/rpaflow/rpaflow/providers/internal/httpx"
)

// AccessDetail is where and how to execute one API Task.
type AccessDetail struct {
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"` // copied verbatim onto the execute request; holds the task token
	// Lifetime is the task token's exp − iat, 0 when the token does not
	// say; it counts from when the details were asked for.
	Lifetime time.Duration `json:"-"`
}

// AccessDetails is the answer for a set of repository paths.
type AccessDetails struct {
	Details map[string]AccessDetail
	// Errors maps a path to the platform's entry verbatim (a string, or
	// compact JSON text); a requested path in neither map gets
	// NotReturned.
	Errors map[string]string
}

// NotReturned is the Errors entry for a requested path the Control Room left out.
const NotReturned = "not returned by the Control Room"

// AccessDetails fetches the execution URL and task token of API Tasks by
// repository path (POST /orchestrator/v1/hotbot/config/accessdetails).
func (c *Client) AccessDetails(ctx context.Context, token string, paths []string) (AccessDetails, error) {
	if len(paths) == 0 {
		return AccessDetails{}, apierror.Invalid("botRepositoryPath", "is empty; give at least one API Task repository path such as %q", `Automation Anywhere\Bots\My Task`)
	}
	for i, p := range paths {
		if strings.TrimSpace(p) == "" {
			return AccessDetails{}, apierror.Invalid(fmt.Sprintf("botRepositoryPath[%d]", i), "is empty; give the API Task's repository path")
		}
	}
	var out struct {
		AccessDetails map[string]AccessDetail    `json:"accessDetails"`
		Errors        map[string]json.RawMessage `json:"errors"`
	}
	err := c.call(ctx, "accessDetails", http.MethodPost,
		c.base+"/orchestrator/v1/hotbot/config/accessdetails", token,
		map[string][]string{"botRepositoryPath": paths}, &out)
	if err != nil {
		return AccessDetails{}, err
	}
	res := AccessDetails{Details: map[string]AccessDetail{}, Errors: map[string]string{}}
	for p, e := range out.Errors {
		res.Errors[p] = rawText(e)
		if res.Errors[p] == "" {
			res.Errors[p] = "error without details"
		}
	}
	for p, d := range out.AccessDetails {
		if _, failed := res.Errors[p]; failed {
			continue
		}
		if d.URL == "" {
			res.Errors[p] = "returned without an execution url"
			continue
		}
		d.Lifetime = taskTokenLifetime(d.Headers)
		res.Details[p] = d
	}
	for _, p := range paths {
		_, ok := res.Details[p]
		if _, failed := res.Errors[p]; !ok && !failed {
			res.Errors[p] = NotReturned
		}
	}
	return res, nil
}

// CheckExecutionURL refuses to let a task token travel anywhere but https
// (http only with AllowHTTP) on an allowed host.
func (c *Client) CheckExecutionURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return apierror.Invalid("executionUrl", "the Control Room returned an execution URL that is not an absolute http(s) URL; check the Control Room's API Task allocation")
	}
	if u.User != nil {
		return apierror.Invalid("executionUrl", "the execution URL for host %q carries user information; refusing to send the task token there", u.Hostname())
	}
	if u.Scheme == "http" && !c.o.AllowHTTP {
		return apierror.Invalid("executionUrl", "the execution URL for host %q uses plain http, which would send the task token in clear; only a local simulator may use http (allow http for it)", u.Hostname())
	}
	if !slices.ContainsFunc(c.hosts, func(p string) bool { return httpx.HostMatches(p, u.Host) }) {
		return apierror.Invalid("executionUrl", "host %q is not an allowed execution host (allowed: %s); if this Control Room really runs API Tasks there, add it to RPAFLOW_<PROFILE>_EXECUTION_HOSTS",
			u.Hostname(), strings.Join(c.hosts, ", "))
	}
	return nil
}

// ExecuteTimeout is how long Execute waits for an API Task's answer.
func (c *Client) ExecuteTimeout() time.Duration { return c.o.ExecuteTimeout }

// Execute runs a real-time API Task synchronously and returns its
// botOutput. It is not idempotent: a TransportError with Sent=true means the
// task may have run.
func (c *Client) Execute(ctx context.Context, d AccessDetail, botInput map[string]botvalue.Value) (map[string]botvalue.Value, error) {
	if err := c.CheckExecutionURL(d.URL); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.o.ExecuteTimeout)
	defer cancel()
	h := http.Header{}
	for k, v := range d.Headers {
		h[k] = []string{v} // verbatim: no canonicalisation surprises for X-Authorization
	}
	h.Set("Content-Type", "application/json")
	if botInput == nil {
		botInput = map[string]botvalue.Value{}
	}
	var out struct {
		HotBotResult *struct {
			BotOutput map[string]botvalue.Value `json:"botOutput"`
		} `json:"hotBotResult"`
	}
	if err := c.send(ctx, &c.exec, "execute", http.MethodPost, d.URL, h, map[string]any{"botInput": botInput}, &out); err != nil {
		return nil, err
	}
	if out.HotBotResult == nil {
		return nil, &apierror.Error{Platform: Platform, Op: "execute", Status: http.StatusOK, Message: "answer has no hotBotResult"}
	}
	if out.HotBotResult.BotOutput == nil {
		return map[string]botvalue.Value{}, nil
	}
	return out.HotBotResult.BotOutput, nil
}
