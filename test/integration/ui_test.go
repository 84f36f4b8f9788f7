package integration

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/codec"
	"github.com/rpaflow/rpaflow/test/devserver"
	"github.com/rpaflow/rpaflow/test/testoidc"
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
// endpoint when withCodec) and a worker whose codec lets the UI's origin in
// (with extra settings such as its authentication), and runs one
// DeployAPITask to completion.
func startUIStack(t *testing.T, withCodec bool, extra map[string]string) *uiStack {
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
	env := map[string]string{"RPAFLOW_CODEC_CORS_ORIGINS": "http://" + uiAddr}
	maps.Copy(env, extra)
	st, err := teststack.Start(teststack.Options{HostPort: srv.FrontendHostPort(), Namespace: "default", TaskQueue: "rpaflow",
		KeyID: "ui", LogLevel: "warn", CodecListener: ln, Extra: env})
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

// historyPayloads returns every payload of a run's history as stored
// (encrypted), in the Payloads JSON the codec endpoint reads.
func historyPayloads(t *testing.T, c client.Client, workflowID string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	all, err := teststack.HistoryPayloads(ctx, c, workflowID)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := protojson.Marshal(&commonpb.Payloads{Payloads: all})
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// codecFromPage posts body to the codec's /decode from the page at pageURL
// (so with that page's origin, as the UI's own calls) with the bearer
// token, and returns the status and answer.
func codecFromPage(t *testing.T, ctx context.Context, pageURL, codecURL, bearer, body string) (int, string) {
	t.Helper()
	ctx, closeTab := chromedp.NewContext(ctx)
	defer closeTab()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatalf("opening %s: %v", pageURL, err)
	}
	args, _ := json.Marshal(map[string]string{"url": codecURL + "/decode", "bearer": bearer, "body": body})
	js := `(async (a) => {
		try {
			const r = await fetch(a.url, {method: "POST", body: a.body, headers: {"Content-Type": "application/json", "X-Namespace": "default", "Authorization": "Bearer " + a.bearer}});
			return JSON.stringify({status: r.status, text: await r.text()});
		} catch (e) { return JSON.stringify({status: 0, text: String(e)}); }
	})(` + string(args) + `)`
	res, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAsValue, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("fetch from the page: %v", err)
	}
	var out struct {
		Status int    `json:"status"`
		Text   string `json:"text"`
	}
	if err := json.Unmarshal([]byte(res), &out); err != nil {
		t.Fatalf("fetch result %q: %v", res, err)
	}
	return out.Status, out.Text
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
		s := startUIStack(t, true, nil)
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

		// The session that served the deployment: its page reads in clear
		// (type, profile) but shows no token, and the codec leaves every
		// payload that carries one sealed.
		desc, err := s.st.Client.DescribeWorkflowExecution(context.Background(), contract.AASessionID("cr"), "")
		if err != nil {
			t.Fatal(err)
		}
		sessionURL := fmt.Sprintf("%s/namespaces/default/workflows/%s/%s/history", s.uiURL,
			neturl.PathEscape(contract.AASessionID("cr")), desc.GetWorkflowExecutionInfo().GetExecution().GetRunId())
		text, png = pageText(t, ctx, sessionURL, func(s string) bool {
			return strings.Contains(s, contract.ControlRoomSessionWorkflow) && strings.Contains(s, `"profile"`)
		})
		saveScreenshot(t, "ui-session.png", png)
		if !strings.Contains(text, contract.ControlRoomSessionWorkflow) || !strings.Contains(text, `"profile"`) {
			t.Errorf("the session's page does not read in clear:\n%s", tail(text, 3000))
		}
		noSecret(t, "the session's page", text, s.issuedTokens())
		code, decoded := codecFromPage(t, ctx, s.uiURL, s.codecURL, "", historyPayloads(t, s.st.Client, contract.AASessionID("cr")))
		if code != 200 {
			t.Fatalf("decoding the session's history from the UI's page: %d %s", code, decoded)
		}
		requireSealedHistory(t, decoded, s.issuedTokens())
	})

	t.Run("without codec endpoint", func(t *testing.T) {
		s := startUIStack(t, false, nil)
		url := fmt.Sprintf("%s/namespaces/default/workflows/%s/%s/history", s.uiURL, s.workflowID, s.runID)
		text, png := pageText(t, ctx, url, func(s string) bool { return strings.Contains(s, encryptedMark) })
		saveScreenshot(t, "ui-without-codec.png", png)
		requireEncryptedPage(t, "without the codec", text, s.issuedTokens())
	})
	// The dev server's UI has no sign-in, so it has no access token to
	// forward (a UI with OIDC sign-in forwards it with codec
	// passAccessToken): its own codec calls are refused and the page stays
	// encrypted. A page of the UI's origin then sends a token of the test's
	// issuer itself, as such a UI would, through the browser's CORS checks.
	t.Run("codec with OIDC", func(t *testing.T) {
		iss, err := testoidc.Start()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(iss.Close)
		s := startUIStack(t, true, map[string]string{"RPAFLOW_CODEC_OIDC_ISSUER": iss.URL, "RPAFLOW_CODEC_OIDC_AUDIENCE": "temporal-ui",
			"RPAFLOW_CODEC_OIDC_REQUIRED_CLAIM": "groups=rpaflow-readers"})
		before := s.codecConns.n.Load()
		url := fmt.Sprintf("%s/namespaces/default/workflows/%s/%s/history", s.uiURL, s.workflowID, s.runID)
		text, png := pageText(t, ctx, url, func(s string) bool {
			return strings.Contains(s, encryptedMark) && strings.Contains(s, "Codec Server could not connect")
		})
		saveScreenshot(t, "ui-codec-oidc.png", png)
		if s.codecConns.n.Load() == before {
			t.Error("the browser never called the codec endpoint")
		}
		requireEncryptedPage(t, "without an access token", text, s.issuedTokens())

		body := historyPayloads(t, s.st.Client, s.workflowID)
		good := testoidc.Claims{Audience: "temporal-ui", Groups: []string{"rpaflow-readers"}}
		code, decoded := codecFromPage(t, ctx, s.uiURL, s.codecURL, iss.Token(good), body)
		if code != 200 || !strings.Contains(decoded, base64.StdEncoding.EncodeToString([]byte("json/plain"))) {
			t.Fatalf("decoding with the signed-in user's token: %d %s", code, tail(decoded, 500))
		}
		if !strings.Contains(decodedData(t, decoded), "California") {
			t.Error("the decoded history lacks the run's result")
		}
		for name, tok := range map[string]string{"forged": iss.Forge(good),
			"expired":  iss.Token(testoidc.Claims{Audience: "temporal-ui", Groups: good.Groups, Expiry: time.Now().Add(-time.Minute)}),
			"no group": iss.Token(testoidc.Claims{Audience: "temporal-ui"})} {
			if code, answer := codecFromPage(t, ctx, s.uiURL, s.codecURL, tok, body); code != 401 && code != 403 || strings.Contains(answer, "California") {
				t.Errorf("%s token: %d %s", name, code, tail(answer, 300))
			}
		}
		// Another origin's page: the browser's preflight is refused.
		if code, answer := codecFromPage(t, ctx, "about:blank", s.codecURL, iss.Token(good), body); code != 0 {
			t.Errorf("a page of another origin: %d %s", code, tail(answer, 300))
		}
	})
}

// requireSealedHistory checks a decoded session history: payloads decode,
// those that carry a token stay sealed and no token shows.
func requireSealedHistory(t *testing.T, decoded string, tokens []string) {
	t.Helper()
	var ps commonpb.Payloads
	if err := protojson.Unmarshal([]byte(decoded), &ps); err != nil {
		t.Fatalf("decoded history: %v", err)
	}
	sealed, clear := 0, 0
	for _, p := range ps.Payloads {
		switch string(p.Metadata["encoding"]) {
		case codec.EncodingSealed:
			sealed++
		case "json/plain":
			clear++
		}
	}
	if sealed == 0 || clear == 0 {
		t.Errorf("session history through the codec: %d sealed and %d clear payloads, want both", sealed, clear)
	}
	noSecret(t, "the decoded session history", decodedData(t, decoded), tokens)
}

// decodedData joins the data of the decoded payloads.
func decodedData(t *testing.T, decoded string) string {
	t.Helper()
	var ps commonpb.Payloads
	if err := protojson.Unmarshal([]byte(decoded), &ps); err != nil {
		t.Fatalf("decoded payloads: %v", err)
	}
	var b strings.Builder
	for _, p := range ps.Payloads {
		b.Write(p.Data)
		b.WriteByte('\n')
	}
	return b.String()
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
