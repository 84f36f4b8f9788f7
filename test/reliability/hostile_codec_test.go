package reliability

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/codec"
	"github.com/rpaflow/rpaflow/internal/temporalclient"
	"github.com/rpaflow/rpaflow/test/testoidc"
	"github.com/rpaflow/rpaflow/test/teststack"
)

// hostileCodecToken is the worker's static codec token in this case.
const hostileCodecToken = "hostile-case-codec-token-0123456789abcdef"

// uiOrigin is the one browser origin the worker's codec lets in.
const uiOrigin = "http://127.0.0.1:8233"

// testHostileCodec: a neighbour on the same machine tries the codec
// endpoint of a running worker every way the issue lists (no token, wrong
// or expired or forged tokens, another audience, an evil origin, an
// oversized body, a sealed session payload, the metrics port) and the
// operator's unsafe configurations; each is refused with a clear answer,
// while the legitimate users (the UI's signed-in user, a script with the
// static token, Prometheus) keep working.
func testHostileCodec(t *testing.T) {
	iss, err := testoidc.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	s := newStack(t, "hostile-codec", stackOptions{})
	maps.Copy(s.env, map[string]string{"RPAFLOW_CODEC_AUTH_TOKEN": hostileCodecToken,
		"RPAFLOW_CODEC_OIDC_ISSUER": iss.URL, "RPAFLOW_CODEC_OIDC_AUDIENCE": "temporal-ui",
		"RPAFLOW_CODEC_OIDC_REQUIRED_CLAIM": "groups=rpaflow-readers", "RPAFLOW_CODEC_CORS_ORIGINS": uiOrigin})
	s.startWorker()
	codecURL := "http://" + s.worker.CodecAddr + "/codec"
	metricsURL := "http://" + s.worker.HTTPAddr

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "hostile-deploy", TaskQueue: s.Queue},
		contract.DeployAPITaskWorkflow, contract.DeployAPITaskInput{Profile: "cr", BotRepositoryPath: `Automation Anywhere\Bots\Zip Code API Task`,
			BotInput: map[string]json.RawMessage{"iStrZipCode": json.RawMessage(`"95134"`)}})
	if err != nil {
		t.Fatal(err)
	}
	var res contract.DeployAPITaskResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("the legitimate deployment: %v", err)
	}
	history, err := teststackHistory(ctx, s, run.GetID())
	if err != nil {
		t.Fatal(err)
	}
	session, err := teststackHistory(ctx, s, contract.AASessionID("cr"))
	if err != nil {
		t.Fatal(err)
	}

	good := testoidc.Claims{Audience: "temporal-ui", Groups: []string{"rpaflow-readers"}}
	post := func(url, auth, origin, method, body string) (int, http.Header, string) {
		req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
			req.Header.Set("Access-Control-Request-Method", "POST")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, resp.Header, string(b)
	}
	secrets := s.secrets
	// refused checks one attack: the status is one of want, the answer
	// explains itself (says), and nothing of the history leaks.
	attempts, succeeded := 0, 0
	refused := func(attack string, code int, hdr http.Header, body string, says string, want ...int) {
		t.Helper()
		attempts++
		ok := false
		for _, w := range want {
			ok = ok || code == w
		}
		leaked := strings.Contains(body, "California") || strings.Contains(body, base64.StdEncoding.EncodeToString([]byte(`"California"`))) ||
			hdr.Get("Access-Control-Allow-Origin") != "" && hdr.Get("Access-Control-Allow-Origin") != uiOrigin
		for _, sec := range secrets() {
			leaked = leaked || sec != "" && strings.Contains(body, sec)
		}
		if !ok || leaked || !strings.Contains(body, says) {
			succeeded++
			t.Errorf("hostile: %s: NOT refused as expected (%d, leaked %v): %s", attack, code, leaked, firstLine(body))
			return
		}
		t.Logf("hostile: %s: refused (%d %s)", attack, code, firstLine(body))
	}
	decode := codecURL + "/decode"

	// Legitimate users first: the UI's signed-in user, a script, Prometheus.
	for name, auth := range map[string]string{"UI user's access token": "Bearer " + iss.Token(good), "script's static token": "Bearer " + hostileCodecToken} {
		code, hdr, body := post(decode, auth, uiOrigin, http.MethodPost, history)
		if code != 200 || hdr.Get("Access-Control-Allow-Origin") != uiOrigin || !strings.Contains(decodedData(body), "California") {
			t.Errorf("legitimate: %s from the UI's origin: %d %s", name, code, firstLine(body))
		}
	}
	if code, _, body := post(metricsURL+"/metrics", "", "", http.MethodGet, ""); code != 200 || !strings.Contains(body, "rpaflow_") {
		t.Errorf("legitimate: Prometheus scrape: %d", code)
	}

	code, hdr, body := post(decode, "", "", http.MethodPost, history)
	refused("codec without a token", code, hdr, body, "no bearer token", 401)
	code, hdr, body = post(decode, "Bearer "+strings.Repeat("x", len(hostileCodecToken)), "", http.MethodPost, history)
	refused("codec with a wrong static token", code, hdr, body, "wrong bearer token", 401)
	code, hdr, body = post(decode, "Bearer "+hostileCodecToken[:len(hostileCodecToken)-1], "", http.MethodPost, history)
	refused("codec with the static token's prefix", code, hdr, body, "wrong bearer token", 401)
	code, hdr, body = post(decode, "Basic "+base64.StdEncoding.EncodeToString([]byte("admin:"+hostileCodecToken)), "", http.MethodPost, history)
	refused("codec with basic auth", code, hdr, body, "no bearer token", 401)
	code, hdr, body = post(decode, "Bearer "+iss.Token(testoidc.Claims{Audience: "temporal-ui", Groups: good.Groups, Expiry: time.Now().Add(-time.Minute)}), "", http.MethodPost, history)
	refused("codec with an expired OIDC token", code, hdr, body, "expired", 401)
	code, hdr, body = post(decode, "Bearer "+iss.Forge(good), "", http.MethodPost, history)
	refused("codec with a token signed by another key", code, hdr, body, "signature", 401)
	code, hdr, body = post(decode, "Bearer "+iss.Token(testoidc.Claims{Audience: "grafana", Groups: good.Groups}), "", http.MethodPost, history)
	refused("codec with a token for another audience", code, hdr, body, "audience", 401)
	code, hdr, body = post(decode, "Bearer "+iss.Token(testoidc.Claims{Issuer: "https://evil.example", Audience: "temporal-ui", Groups: good.Groups}), "", http.MethodPost, history)
	refused("codec with a token from another issuer", code, hdr, body, "different provider", 401)
	code, hdr, body = post(decode, "Bearer "+iss.Token(testoidc.Claims{Audience: "temporal-ui", Groups: []string{"staff"}}), "", http.MethodPost, history)
	refused("codec with a token lacking the required group", code, hdr, body, "rpaflow-readers", 403)
	code, hdr, body = post(decode, "Bearer "+unsignedToken(iss.URL, good), "", http.MethodPost, history)
	refused("codec with an unsigned (alg none) token", code, hdr, body, "access token refused", 401)
	code, hdr, body = post(decode, "", "https://evil.example", http.MethodOptions, "")
	refused("CORS preflight from an evil origin", code, hdr, body, "RPAFLOW_CODEC_CORS_ORIGINS", 403)
	code, hdr, body = post(decode, "Bearer "+iss.Token(good), "https://evil.example", http.MethodPost, history)
	refused("decode from an evil origin with a valid token", code, hdr, body, "RPAFLOW_CODEC_CORS_ORIGINS", 403)
	code, hdr, body = post(decode, "Bearer "+iss.Token(good), "null", http.MethodPost, history)
	refused("decode from a sandboxed page (origin null)", code, hdr, body, "RPAFLOW_CODEC_CORS_ORIGINS", 403)
	big := `{"payloads":[{"data":"` + strings.Repeat("A", codec.MaxBody) + `"}]}`
	code, hdr, body = post(decode, "Bearer "+hostileCodecToken, "", http.MethodPost, big)
	refused("oversized codec body", code, hdr, body, "exceeds", 413)
	code, hdr, body = post(metricsURL+"/codec/decode", "Bearer "+hostileCodecToken, "", http.MethodPost, history)
	refused("codec on the metrics port", code, hdr, body, "RPAFLOW_CODEC_ADDR", 404)
	code, hdr, body = post(metricsURL+"/codec", "", "", http.MethodPost, history)
	refused("bare /codec on the metrics port", code, hdr, body, "RPAFLOW_CODEC_ADDR", 404)

	// The session's history through the codec with a valid token: what
	// carries a token stays sealed.
	attempts++
	code, _, body = post(decode, "Bearer "+hostileCodecToken, "", http.MethodPost, session)
	if sealed, err := stillSealed(body, secrets()); code != 200 || err != nil {
		succeeded++
		t.Errorf("hostile: sealed session payloads through /codec: NOT refused (%d): %v", code, err)
	} else {
		t.Logf("hostile: sealed session payloads through /codec: refused (200, %d payloads stay %s)", sealed, codec.EncodingSealed)
	}

	// A client that holds only the codec endpoint asks the session for its token.
	attempts++
	cc, err := client.Dial(client.Options{HostPort: s.HostPort, Namespace: s.Namespace,
		DataConverter: temporalclient.DataConverter(temporalclient.RemoteCodec(codecURL, hostileCodecToken))})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	var tok contract.TokenResult
	val, err := cc.QueryWorkflow(ctx, contract.AASessionID("cr"), "", contract.QueryToken)
	if err == nil {
		err = val.Get(&tok)
	}
	if !errors.Is(err, codec.ErrSealed) || tok.Token != "" {
		succeeded++
		t.Errorf("hostile: token query through the codec endpoint: NOT refused: %v (token %v)", err, tok.Token != "")
	} else {
		t.Logf("hostile: token query through the codec endpoint: refused (%v)", firstLine(err.Error()))
	}

	// The operator's unsafe configurations: the worker does not start.
	for _, c := range []struct {
		attack string
		set    map[string]string
		says   string
	}{
		{"worker with an unauthenticated codec off loopback", map[string]string{"RPAFLOW_CODEC_ADDR": "0.0.0.0:0", "RPAFLOW_CODEC_AUTH_TOKEN": "", "RPAFLOW_CODEC_OIDC_ISSUER": "", "RPAFLOW_CODEC_OIDC_AUDIENCE": "", "RPAFLOW_CODEC_OIDC_REQUIRED_CLAIM": ""}, "RPAFLOW_CODEC_ADDR=0.0.0.0:0 is not a loopback address"},
		{"worker with a short codec token", map[string]string{"RPAFLOW_CODEC_AUTH_TOKEN": "letmein"}, "RPAFLOW_CODEC_AUTH_TOKEN is 7 characters"},
		{"worker with a wildcard CORS origin", map[string]string{"RPAFLOW_CODEC_CORS_ORIGINS": "*"}, "RPAFLOW_CODEC_CORS_ORIGINS"},
		{"worker with an http OIDC issuer off loopback", map[string]string{"RPAFLOW_CODEC_OIDC_ISSUER": "http://login.example.com"}, "uses http off loopback"},
	} {
		attempts++
		out, err := startRefused(ctx, s.env, c.set)
		if err != nil || !strings.Contains(out, c.says) || strings.Contains(out, "worker running") {
			succeeded++
			t.Errorf("hostile: %s: NOT refused (%v): %s", c.attack, err, firstLine(out))
			continue
		}
		t.Logf("hostile: %s: refused (exit: %s)", c.attack, firstLine(out[strings.Index(out, c.says):]))
	}
	t.Logf("hostile codec: %d attempts, %d succeeded", attempts, succeeded)
}

func teststackHistory(ctx context.Context, s *stack, workflowID string) (string, error) {
	ps, err := teststack.HistoryPayloads(ctx, s.Client, workflowID)
	if err != nil {
		return "", err
	}
	raw, err := protojson.Marshal(&commonpb.Payloads{Payloads: ps})
	return string(raw), err
}

// unsignedToken is a JWT with alg "none": valid claims, no signature.
func unsignedToken(issuer string, c testoidc.Claims) string {
	enc := base64.RawURLEncoding.EncodeToString
	claims, _ := json.Marshal(map[string]any{"iss": issuer, "aud": c.Audience, "sub": "x", "groups": c.Groups, "exp": time.Now().Add(time.Hour).Unix()})
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(claims) + "."
}

// stillSealed checks a decoded session history: payloads that carry a
// token keep the sealed encoding, and no secret shows.
func stillSealed(body string, secrets []string) (int, error) {
	var ps commonpb.Payloads
	if err := protojson.Unmarshal([]byte(body), &ps); err != nil {
		return 0, fmt.Errorf("the answer is not Payloads: %v", err)
	}
	n := 0
	for _, p := range ps.Payloads {
		if string(p.Metadata[converter.MetadataEncoding]) == codec.EncodingSealed {
			n++
		}
		for _, sec := range secrets {
			if sec != "" && bytes.Contains(p.Data, []byte(sec)) {
				return n, errors.New("a decoded payload holds a secret")
			}
		}
	}
	if n == 0 {
		return 0, errors.New("no payload stayed sealed")
	}
	return n, nil
}

// decodedData joins the data of a codec answer's payloads.
func decodedData(body string) string {
	var ps commonpb.Payloads
	if err := protojson.Unmarshal([]byte(body), &ps); err != nil {
		return ""
	}
	var b strings.Builder
	for _, p := range ps.Payloads {
		b.Write(p.Data)
	}
	return b.String()
}

// startRefused runs the worker binary with env changed by set ("" deletes)
// and returns its output once it exits, or an error if it keeps running.
func startRefused(ctx context.Context, env, set map[string]string) (string, error) {
	e := maps.Clone(env)
	for k, v := range set {
		if v == "" {
			delete(e, k)
		} else {
			e[k] = v
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, workerBin)
	cmd.Env = []string{"RPAFLOW_HTTP_ADDR=127.0.0.1:0", "RPAFLOW_CODEC_ADDR=127.0.0.1:0"}
	for k, v := range e {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return string(out), errors.New("the worker kept running")
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return string(out), fmt.Errorf("the worker exited without an error: %v", err)
	}
	return string(out), nil
}
