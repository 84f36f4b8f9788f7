package automationanywhere

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/rpaflow/rpaflow/providers/apierror"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
)

const (
	mfaSeed  = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	mfaOther = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
)

// mfaEnv is the demo Control Room whose user needs 2FA with seed, and a
// client configured with clientSeed; both share a manual clock, and the
// client's waits advance it (recorded in waits).
func mfaEnv(t *testing.T, clientSeed string) (*env, *[]time.Duration) {
	t.Helper()
	var e *env
	waits := &[]time.Duration{}
	e = newEnv(t, func(o *aasim.Options) { o.Users[0].MFASecret = mfaSeed }, func(o *Options) {
		o.MFA = TOTP{Secret: clientSeed}
	})
	e.c.nowFunc = e.clock.Now
	e.c.sleep = func(_ context.Context, d time.Duration) error {
		*waits = append(*waits, d)
		e.clock.Advance(d)
		return nil
	}
	return e, waits
}

func TestMFALoginAndReloginWithinAPeriod(t *testing.T) {
	e, waits := mfaEnv(t, strings.ToLower("JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP")) // as set-up pages show it
	// 10 s into a 30 s period.
	e.clock.Advance(time.Duration(30-e.clock.Now().Unix()%30+10) * time.Second)
	e.login(t)
	e.clock.Advance(5 * time.Second)
	e.login(t) // same period: must wait for the next code, not replay this one
	if len(*waits) != 1 || (*waits)[0] != 15*time.Second {
		t.Fatalf("waits %v, want one wait of 15s until the next period", *waits)
	}
	e.clock.Advance(40 * time.Second)
	e.login(t) // a later period: no wait
	if got := e.sim.Counters().Get("login.mfa.refused"); got != 0 || len(*waits) != 1 {
		t.Fatalf("refused %d codes, waits %v; want every code accepted and one wait", got, *waits)
	}
}

// A code with a leading zero travels as a number without it (as AA
// documents mfaCode); the Control Room reads it back with its zeros.
func TestMFACodeWithLeadingZero(t *testing.T) {
	e, _ := mfaEnv(t, mfaSeed)
	for i := 0; ; i++ {
		code, err := totp.GenerateCodeCustom(mfaSeed, e.clock.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix})
		if err != nil {
			t.Fatal(err)
		}
		if code[0] == '0' {
			break
		}
		if i > 1000 {
			t.Fatal("no code with a leading zero in 1000 periods")
		}
		e.clock.Advance(30 * time.Second)
	}
	e.login(t)
}

func TestMFAWrongSeed(t *testing.T) {
	e, _ := mfaEnv(t, mfaOther)
	_, err := e.c.Login(context.Background())
	ae := apiErr(t, err, http.StatusUnauthorized, "auth.mfa.invalid")
	if !strings.Contains(ae.Message, "_MFA_SECRET") || !strings.Contains(ae.Message, "clock") {
		t.Fatalf("message %q does not say what to check", ae.Message)
	}
	if strings.Contains(err.Error(), mfaOther) || strings.Contains(err.Error(), mfaSeed) {
		t.Fatalf("error %q shows a seed", err)
	}
}

func TestMFANeededButNoSeed(t *testing.T) {
	e, _ := mfaEnv(t, "")
	_, err := e.c.Login(context.Background())
	ae := apiErr(t, err, http.StatusUnauthorized, "auth.mfa.required")
	if !strings.Contains(ae.Message, "RPAFLOW_<PROFILE>_MFA_SECRET") {
		t.Fatalf("message %q does not name _MFA_SECRET", ae.Message)
	}
	// A plain credentials failure says nothing about 2FA.
	e2 := newEnv(t, nil, func(o *Options) { o.APIKey = strings.Repeat("x", 40) })
	_, err = e2.c.Login(context.Background())
	if ae := apiErr(t, err, http.StatusUnauthorized, "auth.credentials.invalid"); strings.Contains(ae.Message, "MFA") {
		t.Fatalf("message %q blames 2FA", ae.Message)
	}
}

func TestMFAOptionsChecked(t *testing.T) {
	for _, c := range []struct {
		mfa   TOTP
		field string
	}{
		{TOTP{Secret: "not base32 !"}, "mfaSecret"},
		{TOTP{Secret: mfaSeed, Digits: 5}, "mfaDigits"},
		{TOTP{Secret: mfaSeed, Period: 1500 * time.Millisecond}, "mfaPeriod"},
	} {
		_, err := New(Options{BaseURL: "https://cr.example.com", Username: "u", APIKey: "k", MFA: c.mfa})
		var inv *apierror.InvalidError
		if !asInvalid(err, &inv) || inv.Field != c.field {
			t.Errorf("%+v: err %v, want an invalid %s", c.mfa, err, c.field)
		} else if strings.Contains(err.Error(), c.mfa.Secret) {
			t.Errorf("error %q shows the seed", err)
		}
	}
}

func asInvalid(err error, inv **apierror.InvalidError) bool { return errors.As(err, inv) }
