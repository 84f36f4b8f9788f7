package promtext

import "testing"

const body = `# HELP rpaflow_session_renewal_lag_seconds x
# TYPE rpaflow_session_renewal_lag_seconds histogram
rpaflow_session_renewal_lag_seconds_bucket{profile="a",le="0.25"} 3
rpaflow_session_renewal_lag_seconds_bucket{profile="a",le="+Inf"} 4
rpaflow_session_renewal_lag_seconds_bucket{profile="b",le="0.25"} 5
rpaflow_session_renewal_lag_seconds_bucket{profile="b",le="+Inf"} 5
rpaflow_up 1
rpaflow_quoted{path="a \"b\" c"} 2.5
`

func TestFirstAndSum(t *testing.T) {
	if v, ok := First(body, "rpaflow_session_renewal_lag_seconds_bucket", map[string]string{"profile": "b", "le": "+Inf"}); !ok || v != 5 {
		t.Errorf("First = %v %v, want 5", v, ok)
	}
	if v, ok := First(body, "rpaflow_up", nil); !ok || v != 1 {
		t.Errorf("First without labels = %v %v, want 1", v, ok)
	}
	if v, ok := First(body, "rpaflow_quoted", map[string]string{"path": `a \"b\" c`}); !ok || v != 2.5 {
		t.Errorf("First with an escaped label = %v %v, want 2.5", v, ok)
	}
	if _, ok := First(body, "rpaflow_session_renewal_lag_seconds_bucket", map[string]string{"profile": "c"}); ok {
		t.Error("First found a series with a label value that is not there")
	}
	if s, n := Sum(body, "rpaflow_session_renewal_lag_seconds_bucket", map[string]string{"le": "0.25"}); s != 8 || n != 2 {
		t.Errorf("Sum = %v over %d series, want 8 over 2", s, n)
	}
	if s, n := Sum(body, "rpaflow_absent", nil); s != 0 || n != 0 {
		t.Errorf("Sum of an absent metric = %v %d", s, n)
	}
}
