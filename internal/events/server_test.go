package events

import (
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/rpaflow/rpaflow/internal/adminhttp"
)

// The events listener takes smaller headers than the admin listener: a
// 24 KiB header is refused here and accepted there.
func TestServerHeaderLimits(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})
	for _, c := range []struct {
		name string
		srv  *http.Server
		want int
	}{
		{"events", Server(ok), http.StatusRequestHeaderFieldsTooLarge},
		{"admin", adminhttp.Server(ok, adminhttp.AdminLimits), http.StatusOK},
	} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = c.srv.Serve(ln) }()
		req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/", nil)
		req.Header.Set("X-Big", strings.Repeat("a", 24<<10))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		_ = resp.Body.Close()
		_ = c.srv.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s listener answered %d to a 24 KiB header, want %d", c.name, resp.StatusCode, c.want)
		}
	}
}
