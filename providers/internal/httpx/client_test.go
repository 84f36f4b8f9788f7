package httpx

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/providers/apierror"
	"github.com/rpaflow/rpaflow/providers/simkit"
)

// A redirect is an error naming the target host, whatever client the host
// gave; nothing reaches the target.
func TestCallerRefusesRedirects(t *testing.T) {
	trap := simkit.NewRedirectTrap(http.StatusTemporaryRedirect)
	defer trap.Close()
	for name, base := range map[string]*http.Client{"default": nil, "host's client": {Timeout: time.Second}, "http.DefaultClient": http.DefaultClient} {
		c := Caller{Platform: "test", Client: NewClient(base, DefaultTimeout)}
		if base == nil {
			c.Client = nil // the Caller's own default
		}
		_, err := c.JSON(context.Background(), "op", http.MethodGet, trap.URL+"/x", http.Header{"Authorization": {"Bearer secret-token-1"}, "X-Ah-Openapi-App-Key": {"app-key-1"}}, nil, nil)
		var ae *apierror.Error
		if !errors.As(err, &ae) || ae.Status != http.StatusTemporaryRedirect || !strings.Contains(err.Error(), trap.OtherHost) {
			t.Errorf("%s: %v, want an error naming the redirect's host", name, err)
		}
	}
	if n := trap.Reached(); n != 0 {
		t.Errorf("%d requests reached the redirect's target", n)
	}
}

func TestNewClientTimeout(t *testing.T) {
	if c := NewClient(nil, 7*time.Second); c.Timeout != 7*time.Second {
		t.Errorf("timeout %v", c.Timeout)
	}
	if c := NewClient(&http.Client{Timeout: time.Second}, 7*time.Second); c.Timeout != time.Second {
		t.Errorf("the host's timeout was replaced: %v", c.Timeout)
	}
	if http.DefaultClient.CheckRedirect != nil {
		t.Error("NewClient changed http.DefaultClient")
	}
}
