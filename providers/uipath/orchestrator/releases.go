package orchestrator

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/rpaflow/rpaflow/providers/apierror"
)

// Release is a process deployed to a folder; its Key starts jobs.
type Release struct {
	ID         int64
	Key        string
	Name       string
	ProcessKey string
}

type releaseDTO struct {
	ID         int64  `json:"Id"`
	Key        string `json:"Key"`
	Name       string `json:"Name"`
	ProcessKey string `json:"ProcessKey"`
}

// Release finds the process named process in folder f.
func (c *Client) Release(ctx context.Context, token string, f Folder, process string) (Release, error) {
	process = strings.TrimSpace(process)
	if process == "" {
		return Release{}, apierror.Invalid("process", "is empty; give the process name as shown in Orchestrator")
	}
	h, err := bearer(token)
	if err != nil {
		return Release{}, err
	}
	if err := folderHeader(h, f); err != nil {
		return Release{}, err
	}
	var page struct{ Value []releaseDTO }
	u := c.orchURL + "/odata/Releases?" + query("$filter", "Name eq "+odataLiteral(process))
	if _, err := c.caller.JSON(ctx, "releases", http.MethodGet, u, h, nil, &page); err != nil {
		return Release{}, err
	}
	for _, r := range page.Value {
		if strings.EqualFold(r.Name, process) {
			return Release(r), nil
		}
	}
	msg := fmt.Sprintf("process '%s' not found in folder '%s'", process, folderName(f))
	var all struct{ Value []releaseDTO }
	u = c.orchURL + "/odata/Releases?" + query("$top", strconv.Itoa(maxHint))
	if _, err := c.caller.JSON(ctx, "releases", http.MethodGet, u, h, nil, &all); err == nil {
		names := make([]string, 0, len(all.Value))
		for _, r := range all.Value {
			names = append(names, r.Name)
		}
		msg += "; known processes: " + hint(names)
	}
	return Release{}, &apierror.Error{Platform: Platform, Op: "releases", Status: http.StatusNotFound, Code: "1002", Message: msg}
}
