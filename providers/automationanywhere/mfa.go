package automationanywhere

import (
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/rpaflow/rpaflow/providers/apierror"
)

// TOTP is a user's two-factor seed: logins send a code computed from it
// (RFC 6238, HMAC-SHA1) as mfaCode.
type TOTP struct {
	Secret string        // base32, as an authenticator app scans it; empty: no 2FA
	Digits int           // default 6
	Period time.Duration // default 30 s; whole seconds
}

// normalizeTOTPSecret drops the spaces and padding authenticator set-up
// pages show and upper-cases the seed; ok is false when it is not base32.
func normalizeTOTPSecret(s string) (string, bool) {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	s = strings.TrimRight(s, "=")
	if s == "" {
		return "", false
	}
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	return s, err == nil && len(b) > 0
}

func (t *TOTP) check() error {
	if t.Secret == "" {
		return nil
	}
	s, ok := normalizeTOTPSecret(t.Secret)
	if !ok {
		return apierror.Invalid("mfaSecret", "is not a base32 TOTP seed; copy the secret key shown when two-factor authentication was set up (letters A-Z and digits 2-7)")
	}
	t.Secret = s
	if t.Digits == 0 {
		t.Digits = 6
	}
	if t.Period == 0 {
		t.Period = 30 * time.Second
	}
	if t.Digits < 6 || t.Digits > 8 {
		return apierror.Invalid("mfaDigits", "is %d; TOTP codes have 6 (the usual), 7 or 8 digits", t.Digits)
	}
	if t.Period < time.Second || t.Period%time.Second != 0 {
		return apierror.Invalid("mfaPeriod", "is %s; give whole seconds such as 30s (the usual)", t.Period)
	}
	return nil
}

// mfa hands out one code per TOTP period: a code may be refused once used,
// so a second login within a period waits for the next one.
type mfa struct {
	TOTP
	mu       sync.Mutex
	lastStep int64 // the last period a code was taken from; 0 none
}

// code returns the code of the first period from now whose code was not
// handed out yet, waiting for that period to begin.
func (m *mfa) code(ctx context.Context, now func() time.Time, sleep func(context.Context, time.Duration) error) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	secs := int64(m.Period / time.Second)
	step := now().Unix() / secs
	if step <= m.lastStep {
		next := time.Unix((m.lastStep+1)*secs, 0)
		if err := sleep(ctx, next.Sub(now())); err != nil {
			return 0, err
		}
		step = max(now().Unix()/secs, m.lastStep+1) // a late wake-up takes the current period
	}
	at := time.Unix(step*secs, 0)
	s, err := totp.GenerateCodeCustom(m.Secret, at, totp.ValidateOpts{Period: uint(m.Period / time.Second),
		Digits: otp.Digits(m.Digits), Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return 0, apierror.Invalid("mfaSecret", "cannot compute a TOTP code: %v", err)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("TOTP code is not a number: %w", err)
	}
	m.lastStep = step
	return n, nil
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// explainLoginError adds what to check to a refused login where 2FA is, or
// may be, the cause. The Control Room's wording is undocumented, so a
// missing code is recognised by its mention of MFA, 2FA or two-factor.
func explainLoginError(err error, withCode bool) error {
	var ae *apierror.Error
	if !errors.As(err, &ae) || ae.Status < 400 || ae.Status >= 500 {
		return err
	}
	e := *ae
	switch {
	case withCode && e.Status == 401:
		e.Message += "; the login sent a two-factor code computed from RPAFLOW_<PROFILE>_MFA_SECRET: check that the seed, _MFA_DIGITS and _MFA_PERIOD match the user's authenticator and that this machine's clock is right"
	case !withCode && mentionsMFA(e.Code+" "+e.Message+" "+e.Details):
		e.Message += "; this user needs two-factor authentication: set RPAFLOW_<PROFILE>_MFA_SECRET (or _MFA_SECRET_FILE) to the user's TOTP seed, or log in with an API key of a user without 2FA"
	default:
		return err
	}
	return &e
}

func mentionsMFA(s string) bool {
	s = strings.ToLower(s)
	for _, w := range []string{"mfa", "2fa", "two-factor", "two factor", "one-time password"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
