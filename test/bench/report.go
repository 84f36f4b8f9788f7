// Package bench measures rpaflow against its floors (a bare Temporal
// workflow, direct HTTP, naive and on-demand clients, the polling budget)
// side by side in one run. The measurements live in the package's
// benchmark (`make bench`); this file holds the report they fill in.
package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Line is one measured figure of a row.
type Line struct {
	Row     string   `json:"row"`
	Metric  string   `json:"metric"`
	Unit    string   `json:"unit,omitempty"`
	Rpaflow float64  `json:"rpaflow"`
	Floor   *float64 `json:"floor,omitempty"` // the baseline's figure, when there is one
	// FloorName says what the floor is (bare workflow, direct HTTP, naive client...).
	FloorName string   `json:"floorName,omitempty"`
	Ratio     *float64 `json:"ratio,omitempty"` // rpaflow / floor
	Target    string   `json:"target,omitempty"`
	Met       *bool    `json:"met,omitempty"`
}

// Report is the whole run: one table plus notes per row.
type Report struct {
	Command  string            `json:"command"`
	Started  time.Time         `json:"started"`
	Duration string            `json:"duration"`
	Machine  string            `json:"machine"`
	Params   map[string]string `json:"params"`
	Lines    []Line            `json:"lines"`
	Notes    []string          `json:"notes"`
}

// Add appends a line and returns it for optional chaining.
func (r *Report) Add(l Line) { r.Lines = append(r.Lines, l) }

// Note appends a note, printed under the table.
func (r *Report) Note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// F is a float pointer helper for Line.Floor and Line.Ratio.
func F(v float64) *float64 { return &v }

// B is a bool pointer helper for Line.Met.
func B(v bool) *bool { return &v }

// Ratio is a/b, or nil when b is zero (no meaningful ratio).
func Ratio(a, b float64) *float64 {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return nil
	}
	return F(a / b)
}

// Markdown renders the report as one markdown table with the command on top
// and the notes below.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "command: %s\n", r.Command)
	fmt.Fprintf(&b, "machine: %s; started %s; took %s\n", r.Machine, r.Started.UTC().Format(time.RFC3339), r.Duration)
	if len(r.Params) > 0 {
		fmt.Fprintf(&b, "params: %s\n", joinParams(r.Params))
	}
	b.WriteString("\n| row | metric | rpaflow | floor | floor is | rpaflow/floor | target | met |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, l := range r.Lines {
		floor, ratio, met := "—", "—", "—"
		if l.Floor != nil {
			floor = num(*l.Floor) + unit(l.Unit)
		}
		if l.Ratio != nil {
			ratio = fmt.Sprintf("%.2f", *l.Ratio)
			if math.Abs(*l.Ratio) < 0.01 {
				ratio = fmt.Sprintf("%.2g", *l.Ratio)
			}
		}
		if l.Met != nil {
			met = map[bool]string{true: "yes", false: "NO"}[*l.Met]
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", l.Row, l.Metric, num(l.Rpaflow)+unit(l.Unit),
			floor, dash(l.FloorName), ratio, dash(l.Target), met)
	}
	if len(r.Notes) > 0 {
		b.WriteString("\nnotes:\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	return b.String()
}

// WriteJSON writes the report to dir/bench-<timestamp>.json and returns the path.
func (r *Report) WriteJSON(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("bench results directory %s: %w (check the path is writable)", dir, err)
	}
	p := filepath.Join(dir, "bench-"+r.Started.UTC().Format("20060102T150405Z")+".json")
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	return p, os.WriteFile(p, append(b, '\n'), 0o644)
}

func joinParams(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, " ")
}

func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case v == math.Trunc(v) && math.Abs(v) < 1e9:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

func unit(u string) string {
	if u == "" {
		return ""
	}
	return " " + u
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
