// Package httpx is the one place providers send HTTP requests: it records
// whether a request reached the wire, reads bounded bodies, parses
// Retry-After and turns non-2xx answers into *apierror.Error.
package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"time"

	"github.com/rpaflow/rpaflow/providers/apierror"
	"github.com/rpaflow/rpaflow/providers/httpobs"
)

// defaultClient serves a Caller without a client of its own.
var defaultClient = NewClient(nil, DefaultTimeout)

// MaxBody bounds how much of any answer is read.
const MaxBody = 8 << 20

// ErrorParser extracts the platform's code, message and details from an error body.
type ErrorParser func(body []byte) (code, message, details string)

// Caller sends requests for one platform.
type Caller struct {
	Platform   string
	Client     *http.Client
	ParseError ErrorParser
	// Observe, if set, is told about every request once it has finished.
	Observe httpobs.Observer
}

// Response is a successful answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends req. A 2xx answer returns its body; anything else an
// *apierror.Error or *apierror.TransportError.
func (c *Caller) Do(ctx context.Context, op string, req *http.Request) (*Response, error) {
	if c.Observe == nil {
		return c.do(ctx, op, req)
	}
	start := time.Now()
	resp, err := c.do(ctx, op, req)
	call := httpobs.Call{Platform: c.Platform, Op: op, Method: req.Method, Start: start, Duration: time.Since(start), Err: err}
	var ae *apierror.Error
	switch {
	case resp != nil:
		call.Status = resp.Status
	case errors.As(err, &ae):
		call.Status = ae.Status
	}
	c.Observe(ctx, call)
	return resp, err
}

func (c *Caller) do(ctx context.Context, op string, req *http.Request) (*Response, error) {
	var sent bool
	trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { sent = true }}
	req = req.WithContext(httptrace.WithClientTrace(ctx, trace))
	client := c.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, &apierror.TransportError{Platform: c.Platform, Op: op, Sent: sent, Err: cleanURLError(err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	if err != nil {
		return nil, &apierror.TransportError{Platform: c.Platform, Op: op, Sent: true, Err: err}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return &Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
	}
	e := &apierror.Error{Platform: c.Platform, Op: op, Status: resp.StatusCode,
		RetryAfter: RetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	if host := redirectTarget(resp); host != "" {
		e.Message = fmt.Sprintf("the platform redirected the call to host %s; redirects are not followed, so credentials go only to the configured host: set the profile's URL to the address the platform really answers on", host)
		return nil, e
	}
	if c.ParseError != nil {
		e.Code, e.Message, e.Details = c.ParseError(body)
	}
	if e.Message == "" && e.Code == "" {
		e.Message = snippet(body)
	}
	return nil, e
}

// JSON sends a request with an optional JSON body and decodes a JSON answer into out (if non-nil).
func (c *Caller) JSON(ctx context.Context, op, method, url string, header http.Header, in, out any) (*Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encoding request: %w", c.Platform, op, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", c.Platform, op, err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if in != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(ctx, op, req)
	if err != nil {
		return nil, err
	}
	if out != nil && len(bytes.TrimSpace(resp.Body)) > 0 {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return resp, &apierror.Error{Platform: c.Platform, Op: op, Status: resp.Status,
				Message: "answer is not the expected JSON: " + err.Error()}
		}
	}
	return resp, nil
}

// RetryAfter parses a Retry-After value (seconds or HTTP date), capped at 10 minutes.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	const maxDelay = 10 * time.Minute
	var d time.Duration
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		switch {
		case n != n || n <= 0: // NaN or not in the future
			return 0
		case n >= maxDelay.Seconds(): // also +Inf and values that would overflow
			return maxDelay
		}
		d = time.Duration(n * float64(time.Second))
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	if d < 0 {
		return 0
	}
	return min(d, maxDelay)
}

// snippet returns a short printable prefix of an unparsed error body.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// cleanURLError drops the URL from *url.Error: URLs may carry tokens in
// query strings (AA validate) and the op already names the call.
func cleanURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && strings.Contains(err.Error(), "\"") {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}
