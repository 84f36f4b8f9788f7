package httpx

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/providers/apierror"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"5", 5 * time.Second},
		{" 5 ", 5 * time.Second},
		{"0", 0},
		{"-3", 0},
		{"1.5", 1500 * time.Millisecond},
		{"9999", 10 * time.Minute}, // capped
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0}, // a date in the past
		{now.Add(time.Hour).Format(http.TimeFormat), 10 * time.Minute},
		{"soon", 0},
		{"99999999999", 10 * time.Minute}, // would overflow a Duration
		{"Inf", 10 * time.Minute},
		{"NaN", 0},
	}
	for _, c := range cases {
		if got := RetryAfter(c.in, now); got != c.want {
			t.Errorf("RetryAfter(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestHostMatches(t *testing.T) {
	cases := []struct {
		pattern, host string
		want          bool
	}{
		{"cr.example.com", "cr.example.com", true},
		{"cr.example.com", "CR.Example.com:443", true}, // case and port ignored
		{"cr.example.com:8443", "cr.example.com", true},
		{"cr.example.com", "cr.example.com.evil.net", false},
		{"*.automationanywhere.digital", "a1.automationanywhere.digital", true},
		{"*.automationanywhere.digital", "x.y.automationanywhere.digital:443", true},
		{"*.automationanywhere.digital", "automationanywhere.digital", false}, // not the apex
		{"*.automationanywhere.digital", "evilautomationanywhere.digital", false},
		{"*.automationanywhere.digital", "automationanywhere.digital.evil.net", false},
		{" *.Example.COM ", "a.example.com", true},
		{"127.0.0.1", "127.0.0.1:54321", true},
		{"127.0.0.1", "127.0.0.2", false},
		{"::1", "[::1]:8443", true},
		{"[::1]", "[::1]", true},
		{"[::1]:443", "::1", true},
		{"::1", "[::2]:8443", false},
	}
	for _, c := range cases {
		if got := HostMatches(c.pattern, c.host); got != c.want {
			t.Errorf("HostMatches(%q, %q) = %v, want %v", c.pattern, c.host, got, c.want)
		}
	}
}

func TestCheckBaseURL(t *testing.T) {
	ok := []struct{ in, want string }{
		{"https://cr.example.com/", "https://cr.example.com"},
		{" https://cloud.uipath.com/org/tenant// ", "https://cloud.uipath.com/org/tenant"},
		{"https://[::1]:8443", "https://[::1]:8443"},
	}
	for _, c := range ok {
		got, err := CheckBaseURL(c.in, false)
		if err != nil || got != c.want {
			t.Errorf("CheckBaseURL(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if got, err := CheckBaseURL("http://127.0.0.1:8090", true); err != nil || got != "http://127.0.0.1:8090" {
		t.Errorf("http with allowHTTP = %q, %v", got, err)
	}
	bad := []struct{ in, want string }{
		{"http://cr.example.com", "plain http"},
		{"cr.example.com", "not an absolute"},
		{"ftp://cr.example.com", "not an absolute"},
		{"https://", "not an absolute"},
		{"https://cr.example.com/?x=1", "query or fragment"},
		{"https://cr.example.com/#frag", "query or fragment"},
		{"https://cr.example.com/%zz", "not an absolute"},
	}
	for _, c := range bad {
		if _, err := CheckBaseURL(c.in, false); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckBaseURL(%q) error = %v, want one mentioning %q", c.in, err, c.want)
		}
	}
}

func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// Connection refused: nothing reached the platform, and the URL (which may
// carry a token in its query) is not in the error.
func TestDoConnectionRefusedIsNotSent(t *testing.T) {
	c := &Caller{Platform: "test", Client: &http.Client{Timeout: 5 * time.Second}}
	req, _ := http.NewRequest(http.MethodGet, "http://"+closedPort(t)+"/v1/authentication/token?token=SECRET-TOKEN", nil)
	_, err := c.Do(context.Background(), "validate", req)
	var te *apierror.TransportError
	if !errors.As(err, &te) {
		t.Fatalf("error %T %v, want *apierror.TransportError", err, err)
	}
	if te.Sent || te.Platform != "test" || te.Op != "validate" {
		t.Errorf("transport error = %+v, want Sent=false", te)
	}
	if strings.Contains(err.Error(), "SECRET-TOKEN") {
		t.Errorf("error echoes the URL: %v", err)
	}
}

// A server that reads the whole request and never answers: the request was
// sent, so the caller must treat the outcome as unknown.
func TestDoTimeoutAfterSendIsSent(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
		<-r.Context().Done() // stall until the client gives up
	}))
	defer srv.Close()
	c := &Caller{Platform: "test", Client: &http.Client{Timeout: 300 * time.Millisecond}}
	_, err := c.JSON(context.Background(), "execute", http.MethodPost, srv.URL+"/hotbot/1/execute", nil, map[string]string{"a": "b"}, nil)
	var te *apierror.TransportError
	if !errors.As(err, &te) || !te.Sent {
		t.Fatalf("error = %v, want a TransportError with Sent=true", err)
	}
	if body := <-got; body != `{"a":"b"}` {
		t.Errorf("server read %q", body)
	}
	if !strings.Contains(err.Error(), "after the request was sent") {
		t.Errorf("message = %v", err)
	}
}

func TestDoErrorAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ok" {
			_, _ = w.Write([]byte(`{"v":1}`))
			return
		}
		w.Header().Set("Retry-After", "4")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"code":"rate.limited","message":"slow down"}`))
	}))
	defer srv.Close()
	c := &Caller{Platform: "test", ParseError: func(b []byte) (string, string, string) {
		if strings.Contains(string(b), "rate.limited") {
			return "rate.limited", "slow down", ""
		}
		return "", "", ""
	}}
	var out struct{ V int }
	if _, err := c.JSON(context.Background(), "get", http.MethodGet, srv.URL+"/ok", nil, nil, &out); err != nil || out.V != 1 {
		t.Fatalf("ok: %v %+v", err, out)
	}
	_, err := c.JSON(context.Background(), "get", http.MethodGet, srv.URL+"/busy", nil, nil, &out)
	var ae *apierror.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %T %v", err, err)
	}
	if ae.Status != 429 || ae.Code != "rate.limited" || ae.Message != "slow down" || ae.RetryAfter != 4*time.Second {
		t.Errorf("error = %+v", ae)
	}
	// Without a parser the body's start is the message.
	c.ParseError = nil
	_, err = c.JSON(context.Background(), "get", http.MethodGet, srv.URL+"/busy", nil, nil, nil)
	if errors.As(err, &ae); !strings.Contains(ae.Message, "rate.limited") {
		t.Errorf("unparsed message = %q", ae.Message)
	}
}
