package automationanywhere

import (
	"time"

	"github.com/rpaflow/rpaflow/providers/internal/jwt"
)

// ExecuteTimeout is how long Execute waits for an API Task's answer.
func (c *Client) ExecuteTimeout() time.Duration { return c.o.ExecuteTimeout }

// TokenTimes describes a token already held (e.g. one that was validated):
// its expiry from the JWT exp, else now + the default lifetime.
func TokenTimes(token string, now time.Time) Token {
	return Token{Value: token, IssuedAt: now, Expiry: jwt.Expiry(token, now, DefaultTokenLifetime)}
}
