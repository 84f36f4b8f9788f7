package contract

import (
	"strings"
	"testing"
)

// A profile name follows the configuration's rule; a bad one is
// InvalidInput naming the field and saying what to give instead.
func TestValidateProfile(t *testing.T) {
	for _, ok := range []string{"cr", "orch-2", "9x", "a"} {
		if err := ValidateProfile(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, c := range []struct{ name, want string }{
		{"", "profile: is empty; give the name of a profile listed in RPAFLOW_PROFILES"},
		{"CR", `profile: "CR" is not a profile name`},
		{"-cr", `profile: "-cr" is not a profile name`},
		{"c_r", `profile: "c_r" is not a profile name`},
		{"cr ", `profile: "cr " is not a profile name`},
	} {
		err := ValidateProfile(c.name)
		if !IsType(err, ErrInvalidInput) {
			t.Errorf("%q: %v, want InvalidInput", c.name, err)
			continue
		}
		if info, _ := InfoOf(err); info.Field != "profile" || !strings.HasPrefix(appError(err).Message(), c.want) || !strings.Contains(err.Error(), "RPAFLOW_PROFILES") {
			t.Errorf("%q: %q (field %q), want it to start %q and name RPAFLOW_PROFILES", c.name, appError(err).Message(), info.Field, c.want)
		}
	}
}
