package bench

import (
	"math"
	"sort"
	"time"
)

// Percentile returns the p-th percentile (0..100) of xs by the nearest-rank
// method, or NaN for no samples. xs is not modified.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}

// Millis converts durations to milliseconds.
func Millis(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(d) / float64(time.Millisecond)
	}
	return out
}

// Sample is a cumulative counter read at a moment.
type Sample struct {
	At    time.Time
	Count int64
}

// MaxInWindow returns the largest increase of a cumulative counter over any
// window of length w, judged from samples in time order. A window is
// anchored at each sample and looks back w; the counter before the first
// sample is taken as that sample's value.
func MaxInWindow(samples []Sample, w time.Duration) int64 {
	var best int64
	j := 0
	for i := range samples {
		for samples[i].At.Sub(samples[j].At) > w {
			j++
		}
		if d := samples[i].Count - samples[j].Count; d > best {
			best = d
		}
	}
	return best
}

func sortStrings(s []string) { sort.Strings(s) }
