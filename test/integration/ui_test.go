package integration

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/test/devserver"
	"github.com/rpaflow/rpaflow/test/teststack"
)

// uiStack is a dev server that serves the Temporal UI, with one worker on it
// and a finished DeployAPITask run.
type uiStack struct {
	st           *teststack.Stack
	uiURL        string
	workflowID   string
	runID        string
	codecURL     string
	issuedTokens func() []string
	codecConns   *countingListener
}

// countingListener counts accepted connections: who called the codec.
type countingListener struct {
	net.Listener
	n atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// startUIStack starts a dev server with its UI (pointed at the worker's codec
// endpoint when withCodec) and a worker (with the codec's bearer token when
// authToken is set), and runs one DeployAPITask to completion.
func startUIStack(t *testing.T, withCodec bool, authToken string) *uiStack {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &countingListener{Listener: raw}
	codecURL := "http://" + ln.Addr().String() + "/codec"
	uiAddr, err := devserver.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	o := devserver.Options{CLI: temporalCLI, UIPort: uiAddr[strings.LastIndexByte(uiAddr, ':')+1:]}
	if withCodec {
		o.UICodecEndpoint = codecURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := devserver.Start(ctx, o)
	if err != nil {
		ln.Close()
		t.Fatalf("dev server with UI: %v", err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	extra := map[string]string{}
	if authToken != "" {
		extra["RPAFLOW_CODEC_AUTH_TOKEN"] = authToken
	}
	st, err := teststack.Start(teststack.Options{HostPort: srv.FrontendHostPort(), Namespace: "default", TaskQueue: "rpaflow",
		KeyID: "ui", LogLevel: "warn", HTTPListener: ln, Extra: extra})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Stop(); err != nil {
			t.Error(err)
		}
	})
	run, err := st.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "ui-deploy-api-task", TaskQueue: "rpaflow"},
		contract.DeployAPITaskWorkflow, contract.DeployAPITaskInput{Profile: "cr",
			BotRepositoryPath: `Automation Anywhere\Bots\Zip Code API Task`, BotInput: map[string]json.RawMessage{"iStrZipCode": json.RawMessage(`"95134"`)}})
	if err != nil {
		t.Fatal(err)
	}
	var res contract.DeployAPITaskResult
	if err := run.Get(ctx, &res); err != nil || res.BotOutput["State"] != "California" {
		t.Fatalf("DeployAPITask: %v, output %v", err, res.BotOutput)
	}
	return &uiStack{st: st, uiURL: "http://" + uiAddr, workflowID: run.GetID(), runID: run.GetRunID(), codecURL: codecURL,
		issuedTokens: st.Sims.AA.IssuedSecrets, codecConns: ln}
}

// browser starts headless Chromium with a fresh profile and no background
// traffic (without those flags it tries to reach the internet and stalls).
func browser(t *testing.T) context.Context {
	t.Helper()
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		if os.Getenv("RPAFLOW_REQUIRE_INTEGRATION") == "1" {
			t.Fatal("no chromium on PATH (Debian package chromium; .ci/run installs it)")
		}
		t.Skip("no chromium on PATH")
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 1000),
	)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	// Start the browser on this context: a tab's context, cancelled, then
	// closes only its tab.
	if _, err := chromedp.Run(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	return ctx
}

// pageText opens the run's history page and returns the page text once
// until(text) holds or after a bounded wait, plus a PNG screenshot.
func pageText(t *testing.T, ctx context.Context, url string, until func(string) bool) (string, []byte) {
	t.Helper()
	ctx, closeTab := chromedp.NewContext(ctx)
	defer closeTab()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("opening %s: %v", url, err)
	}
	var text string
	for deadline := time.Now().Add(45 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		var err error
		if text, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`)); err != nil {
			t.Fatalf("reading the page: %v", err)
		}
		if until(text) {
			break
		}
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	return text, png
}

func saveScreenshot(t *testing.T, name string, png []byte) {
	t.Helper()
	p := filepath.Join(t.ArtifactDir(), name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
}

const zipPath = "Zip Code API Task"

// encryptedMark is how the UI shows an encrypted payload's encoding
// (metadata values are base64): "binary/encrypted".
var encryptedMark = base64.StdEncoding.EncodeToString([]byte("binary/encrypted"))

func noSecret(t *testing.T, what, text string, tokens []string) {
	t.Helper()
	for _, tok := range tokens {
		if tok != "" && strings.Contains(text, tok) {
			t.Errorf("%s shows a token the Control Room issued", what)
		}
	}
}

// The Temporal UI the dev server ships reads a finished DeployAPITask through
// the worker's codec endpoint in a real browser: the decrypted input (the bot
// repository path) and result (California) show; without a codec endpoint
// only encrypted payloads show, and no secret.
func TestUIDecryptsThroughCodecEndpoint(t *testing.T) {
	if temporalCLI == "" || testing.Short() {
		t.Skip("no temporal binary or -short")
	}
	ctx := browser(t)

	t.Run("with codec endpoint", func(t *testing.T) {
		s := startUIStack(t, true, "")
		url := fmt.Sprintf("%s/namespaces/default/workflows/%s/%s/history", s.uiURL, s.workflowID, s.runID)
		text, png := pageText(t, ctx, url, func(s string) bool { return strings.Contains(s, "California") && strings.Contains(s, zipPath) })
		saveScreenshot(t, "ui-with-codec.png", png)
		for _, want := range []string{zipPath, "California", "95134"} {
			if !strings.Contains(text, want) {
				t.Errorf("the run's page lacks %q (decrypted through %s):\n%s", want, s.codecURL, tail(text, 3000))
			}
		}
		if strings.Contains(text, "could not connect") {
			t.Errorf("the UI reports a codec failure:\n%s", tail(text, 2000))
		}
		noSecret(t, "the decoded page", text, s.issuedTokens())
	})

	t.Run("without codec endpoint", func(t *testing.T) {
		s := startUIStack(t, false, "")
		url := fmt.Sprintf("%s/namespaces/default/workflows/%s/%s/history", s.uiURL, s.workflowID, s.runID)
		text, png := pageText(t, ctx, url, func(s string) bool { return strings.Contains(s, encryptedMark) })
		saveScreenshot(t, "ui-without-codec.png", png)
		requireEncryptedPage(t, "without the codec", text, s.issuedTokens())
	})
	// The UI cannot hold a static bearer token: its "pass access token"
	// option sends the UI user's own OIDC access token, and only to an https
	// endpoint. So a codec that requires RPAFLOW_CODEC_AUTH_TOKEN answers the
	// UI's calls 401 and the page stays encrypted (README: Security model).
	t.Run("codec with auth token", func(t *testing.T) {
		s := startUIStack(t, true, "ui-codec-token-1")
		before := s.codecConns.n.Load()
		url := fmt.Sprintf("%s/namespaces/default/workflows/%s/%s/history", s.uiURL, s.workflowID, s.runID)
		text, png := pageText(t, ctx, url, func(s string) bool {
			return strings.Contains(s, encryptedMark) && strings.Contains(s, "Codec Server could not connect")
		})
		saveScreenshot(t, "ui-codec-auth-token.png", png)
		if s.codecConns.n.Load() == before {
			t.Error("the browser never called the codec endpoint")
		}
		if !strings.Contains(text, "Codec Server could not connect") {
			t.Errorf("the UI does not report the refused codec call:\n%s", tail(text, 2000))
		}
		requireEncryptedPage(t, "without the codec's bearer token", text, s.issuedTokens())
	})
}

// requireEncryptedPage checks a run's page that the UI could not decode: it
// shows the encrypted payload, none of the run's plain values and no secret.
func requireEncryptedPage(t *testing.T, why, text string, secrets []string) {
	t.Helper()
	if !strings.Contains(text, encryptedMark) {
		t.Errorf("%s, the page shows no encrypted payload:\n%s", why, tail(text, 3000))
	}
	for _, plain := range []string{zipPath, "California", "95134"} {
		if strings.Contains(text, plain) {
			t.Errorf("%s, the page shows %q", why, plain)
		}
	}
	noSecret(t, "the encrypted page", text, secrets)
}
