package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Error reports every configuration problem found, one per line.
type Error struct {
	Problems []string
}

func (e *Error) Error() string {
	var b strings.Builder
	if len(e.Problems) == 1 {
		b.WriteString("invalid configuration (1 problem):")
	} else {
		fmt.Fprintf(&b, "invalid configuration (%d problems):", len(e.Problems))
	}
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p)
	}
	return b.String()
}

type problems struct {
	list []string
	// raw are secret values as configured that the result holds only in a
	// normalized form (a grouped TOTP seed): kept for redaction.
	raw []string
	// warnings do not fail the load.
	warnings []string
}

func (p *problems) keepSecret(s string) { p.raw = append(p.raw, s) }

func (p *problems) add(msg string)                  { p.list = append(p.list, msg) }
func (p *problems) addf(format string, args ...any) { p.add(fmt.Sprintf(format, args...)) }

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &Error{Problems: p.list}
}

// boolean parses a non-secret boolean variable.
func (p *problems) boolean(name, value string) bool {
	v, err := strconv.ParseBool(strings.TrimSpace(value))
	if err != nil {
		p.addf("%s=%q is not a boolean; use true or false", name, value)
		return false
	}
	return v
}
