package automationanywhere

import (
	"strings"
	"time"

	"github.com/rpaflow/rpaflow/providers/internal/jwt"
)

// TokenTimes describes a token received at received: it expires its
// exp − iat later, else the default lifetime later.
func TokenTimes(token string, received time.Time) Token {
	return Token{Value: token, IssuedAt: received, Expiry: jwt.Expiry(token, received, DefaultTokenLifetime)}
}

// taskTokenLifetime is the lifetime the task token among an access detail's
// headers states (exp − iat; the shortest if several do), or 0 when none does.
func taskTokenLifetime(headers map[string]string) time.Duration {
	var life time.Duration
	for _, v := range headers {
		v = strings.TrimSpace(v)
		if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
			v = strings.TrimSpace(v[7:])
		}
		if l, ok := jwt.Lifetime(v); ok && (life == 0 || l < life) {
			life = l
		}
	}
	return life
}
