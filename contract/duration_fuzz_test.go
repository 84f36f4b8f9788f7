package contract

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

// FuzzDuration: Duration reads any JSON without panicking; what it reads
// writes back and reads again to the same value; seconds are never wrapped
// into a different duration.
func FuzzDuration(f *testing.F) {
	for _, s := range []string{`"30s"`, `"1h2m3.5s"`, `90`, `1.5`, `-1`, `1e300`, `1e12`, `-1e12`, `"-2562047h47m16.854775808s"`, `null`, `"x"`, `{}`} {
		f.Add([]byte(s))
	}
	for _, tooBig := range []string{`1e12`, `-1e12`, `1e300`} {
		var d Duration
		if err := json.Unmarshal([]byte(tooBig), &d); err == nil {
			f.Errorf("%s seconds read as %v, want an out-of-range error", tooBig, time.Duration(d))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Duration
		if err := json.Unmarshal(b, &d); err != nil {
			return
		}
		var secs float64
		if json.Unmarshal(b, &secs) == nil {
			if want := secs * float64(time.Second); math.Abs(float64(d)-want) > math.Max(1, math.Abs(want)*1e-9) {
				t.Fatalf("%s seconds read as %v", b, time.Duration(d))
			}
		}
		out, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var back Duration
		if err := json.Unmarshal(out, &back); err != nil || back != d {
			t.Fatalf("%s -> %s -> %v, %v", b, out, time.Duration(back), err)
		}
	})
}
