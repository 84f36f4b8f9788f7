package contract

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// Duration is a time.Duration that reads and writes JSON as "30s", "5m",
// and also accepts a number of seconds, so CLI users can type either.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON accepts "1m30s" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: use a Go duration such as \"30s\" or \"5m\"", s)
		}
		*d = Duration(v)
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("duration %s: use a string such as \"30s\" or a number of seconds", b)
	}
	// beyond ±292 years a time.Duration would wrap to another value
	if ns := secs * float64(time.Second); !(ns > math.MinInt64 && ns < math.MaxInt64) {
		return fmt.Errorf("duration %s seconds is out of range; give at most %d seconds", b, int64(math.MaxInt64/time.Second))
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}
