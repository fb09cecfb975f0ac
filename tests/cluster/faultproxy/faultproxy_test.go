package faultproxy

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// setup starts a TLS upstream, the proxy (TLS) and its control API.
func setup(t *testing.T) (p *Proxy, client *http.Client, proxyURL, controlURL string, upstreamHits *int) {
	t.Helper()
	hits := 0
	up := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		w.Header().Set("X-Upstream", "yes")
		io.WriteString(w, "upstream:"+r.Method+" "+r.URL.Path)
	}))
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL)
	p = New(u, &tls.Config{RootCAs: poolOf(up)})
	front := httptest.NewUnstartedServer(p)
	front.EnableHTTP2 = false
	front.StartTLS()
	t.Cleanup(front.Close)
	ctl := httptest.NewServer(p.Control())
	t.Cleanup(ctl.Close)
	c := front.Client()
	c.Timeout = 5 * time.Second
	return p, c, front.URL, ctl.URL, &hits
}

func poolOf(s *httptest.Server) *x509.CertPool {
	return s.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
}

func addRule(t *testing.T, ctl string, r Rule) Rule {
	t.Helper()
	b, _ := json.Marshal(r)
	resp, err := http.Post(ctl+"/rules", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 201 {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("add rule: %s %s", resp.Status, body)
	}
	var out Rule
	json.NewDecoder(resp.Body).Decode(&out)
	return out
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string, error) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b), nil
}

func TestPassThroughAndCounters(t *testing.T) {
	_, c, pu, ctl, hits := setup(t)
	for i := 0; i < 3; i++ {
		resp, body, err := get(t, c, pu+"/api/v1/namespaces?limit=1")
		if err != nil || resp.StatusCode != 200 || body != "upstream:GET /api/v1/namespaces" {
			t.Fatalf("pass-through: %v %v %q", err, resp, body)
		}
	}
	if *hits != 3 {
		t.Fatalf("upstream hits %d", *hits)
	}
	_, body, _ := get(t, http.DefaultClient, ctl+"/counters")
	var counters map[string]int
	json.Unmarshal([]byte(body), &counters)
	if counters["GET /api/v1/namespaces"] != 3 {
		t.Fatalf("counters %v", counters)
	}
	req, _ := http.NewRequest("DELETE", ctl+"/counters", nil)
	http.DefaultClient.Do(req)
	_, body, _ = get(t, http.DefaultClient, ctl+"/counters")
	if strings.TrimSpace(body) != "{}" {
		t.Fatalf("counters after reset: %s", body)
	}
}

func TestWritesCountedApartFromDryRuns(t *testing.T) {
	_, c, pu, ctl, _ := setup(t)
	send := func(method, path string) {
		req, _ := http.NewRequest(method, pu+path, strings.NewReader("{}"))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		resp.Body.Close()
	}
	send("PATCH", "/api/v1/namespaces/a/configmaps/x?dryRun=All&fieldManager=kstage")
	send("POST", "/api/v1/namespaces/a/configmaps?fieldManager=kstage&dryRun=All")
	send("GET", "/api/v1/namespaces/a/configmaps/x")
	send("PATCH", "/api/v1/namespaces/a/configmaps/y?fieldManager=kstage")
	send("DELETE", "/api/v1/namespaces/a/configmaps/z?dryRun=Nope")
	_, body, _ := get(t, http.DefaultClient, ctl+"/counters")
	var counters map[string]int
	json.Unmarshal([]byte(body), &counters)
	writes := map[string]int{}
	for k, v := range counters {
		if strings.HasPrefix(k, "WRITE ") {
			writes[k] = v
		}
	}
	want := map[string]int{"WRITE PATCH /api/v1/namespaces/a/configmaps/y": 1, "WRITE DELETE /api/v1/namespaces/a/configmaps/z": 1}
	if len(writes) != len(want) || writes["WRITE PATCH /api/v1/namespaces/a/configmaps/y"] != 1 ||
		writes["WRITE DELETE /api/v1/namespaces/a/configmaps/z"] != 1 {
		t.Fatalf("writes %v, want %v", writes, want)
	}
	if counters["PATCH /api/v1/namespaces/a/configmaps/x"] != 1 {
		t.Fatalf("counters %v", counters)
	}
}

func TestStatusActions(t *testing.T) {
	for _, code := range []int{500, 503, 429} {
		_, c, pu, ctl, hits := setup(t)
		addRule(t, ctl, Rule{Method: "GET", Path: "^/api/v1/pods$", Action: ActionStatus, Status: code, RetryAfter: 2})
		resp, body, err := get(t, c, pu+"/api/v1/pods")
		if err != nil || resp.StatusCode != code {
			t.Fatalf("code %d: %v %v", code, err, resp)
		}
		if resp.Header.Get("Retry-After") != "2" || !strings.Contains(body, `"kind":"Status"`) {
			t.Fatalf("code %d: Retry-After %q body %s", code, resp.Header.Get("Retry-After"), body)
		}
		// Other paths and methods pass.
		if resp, _, _ := get(t, c, pu+"/api/v1/nodes"); resp.StatusCode != 200 {
			t.Fatalf("unmatched path: %v", resp.Status)
		}
		req, _ := http.NewRequest("POST", pu+"/api/v1/pods", nil)
		if resp, err := c.Do(req); err != nil || resp.StatusCode != 200 {
			t.Fatalf("unmatched method: %v %v", err, resp)
		}
		if *hits != 2 {
			t.Fatalf("upstream hits %d", *hits)
		}
	}
}

func TestReset(t *testing.T) {
	_, c, pu, ctl, _ := setup(t)
	addRule(t, ctl, Rule{Path: "/boom", Action: ActionReset, Times: 1})
	c.Transport.(*http.Transport).DisableKeepAlives = true
	_, _, err := get(t, c, pu+"/boom")
	if err == nil {
		t.Fatal("expected a connection error")
	}
	if !errors.Is(err, syscall.ECONNRESET) && !strings.Contains(err.Error(), "EOF") {
		t.Fatalf("expected connection reset, got %v", err)
	}
	if resp, _, err := get(t, c, pu+"/boom"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("second request (times=1) should pass: %v", err)
	}
}

func TestLatency(t *testing.T) {
	_, c, pu, ctl, _ := setup(t)
	addRule(t, ctl, Rule{Path: "^/slow", Action: ActionLatency, LatencyMs: 1000})
	start := time.Now()
	resp, _, err := get(t, c, pu+"/slow")
	if err != nil || resp.StatusCode != 200 {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second {
		t.Fatalf("latency not applied: %v", d)
	}
	start = time.Now()
	get(t, c, pu+"/fast")
	if d := time.Since(start); d > 800*time.Millisecond {
		t.Fatalf("unmatched request slowed: %v", d)
	}
}

func TestHang(t *testing.T) {
	_, c, pu, ctl, _ := setup(t)
	addRule(t, ctl, Rule{Path: "^/hang$", Action: ActionHang})
	c.Timeout = 400 * time.Millisecond
	start := time.Now()
	_, _, err := get(t, c, pu+"/hang")
	if err == nil || time.Since(start) < 400*time.Millisecond {
		t.Fatalf("expected client timeout after hang, got %v after %v", err, time.Since(start))
	}
	// With hangMs the proxy gives up itself and resets the connection.
	addRule(t, ctl, Rule{Path: "^/hang2$", Action: ActionHang, HangMs: 200})
	c.Timeout = 5 * time.Second
	start = time.Now()
	_, _, err = get(t, c, pu+"/hang2")
	if err == nil || time.Since(start) < 200*time.Millisecond || time.Since(start) > 3*time.Second {
		t.Fatalf("hangMs: %v after %v", err, time.Since(start))
	}
}

func TestNthAndTimes(t *testing.T) {
	p, c, pu, ctl, _ := setup(t)
	addRule(t, ctl, Rule{Path: "^/x$", Action: ActionStatus, Status: 500, Nth: 3, Times: 2})
	var codes []int
	for i := 0; i < 6; i++ {
		resp, _, err := get(t, c, pu+"/x")
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, resp.StatusCode)
	}
	want := []int{200, 200, 500, 500, 200, 200}
	for i := range want {
		if codes[i] != want[i] {
			t.Fatalf("codes %v, want %v", codes, want)
		}
	}
	r := p.Rules()[0]
	if r.Matched != 6 || r.Fired != 2 {
		t.Fatalf("rule counters %+v", r)
	}
}

func TestProbability(t *testing.T) {
	p, c, pu, ctl, _ := setup(t)
	p.Seed(42)
	addRule(t, ctl, Rule{Action: ActionStatus, Status: 503, Probability: 0.2})
	failed := 0
	const n = 400
	for i := 0; i < n; i++ {
		resp, _, err := get(t, c, pu+"/p")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == 503 {
			failed++
		}
	}
	if failed < n*10/100 || failed > n*30/100 {
		t.Fatalf("20%% rule failed %d of %d", failed, n)
	}
}

func TestControlAPI(t *testing.T) {
	_, _, _, ctl, _ := setup(t)
	a := addRule(t, ctl, Rule{Action: ActionLatency, LatencyMs: 1})
	addRule(t, ctl, Rule{Action: ActionStatus})
	for _, bad := range []string{`{"action":"explode"}`, `{"action":"status","path":"("}`, `{"action":"status","bogus":1}`, `{"action":"status","probability":2}`} {
		resp, err := http.Post(ctl+"/rules", "application/json", strings.NewReader(bad))
		if err != nil || resp.StatusCode != 400 {
			t.Fatalf("%s: want 400, got %v %v", bad, err, resp)
		}
	}
	_, body, _ := get(t, http.DefaultClient, ctl+"/rules")
	var rules []Rule
	json.Unmarshal([]byte(body), &rules)
	if len(rules) != 2 || rules[1].Status != 503 {
		t.Fatalf("rules %s", body)
	}
	req, _ := http.NewRequest("DELETE", ctl+"/rules/"+strconv.Itoa(a.ID), nil)
	if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != 200 {
		t.Fatalf("delete rule: %v", resp.Status)
	}
	req, _ = http.NewRequest("DELETE", ctl+"/rules", nil)
	http.DefaultClient.Do(req)
	_, body, _ = get(t, http.DefaultClient, ctl+"/rules")
	if strings.TrimSpace(body) != "[]" {
		t.Fatalf("after clear: %s", body)
	}
}

func TestAfterForwardsThenFails(t *testing.T) {
	for _, action := range []string{ActionStatus, ActionReset} {
		_, c, pu, ctl, hits := setup(t)
		c.Transport.(*http.Transport).DisableKeepAlives = true
		addRule(t, ctl, Rule{Method: "PATCH", Path: "^/x$", Action: action, Status: 500, After: true, Times: 1})
		req, _ := http.NewRequest("PATCH", pu+"/x", strings.NewReader("{}"))
		resp, err := c.Do(req)
		if action == ActionStatus && (err != nil || resp.StatusCode != 500) {
			t.Fatalf("%s: want the injected 500, got %v %v", action, err, resp)
		}
		if action == ActionReset && err == nil {
			t.Fatalf("%s: want a connection error, got %v", action, resp.Status)
		}
		if *hits != 1 {
			t.Fatalf("%s: the request should have reached upstream once, hits %d", action, *hits)
		}
	}
	_, _, _, ctl, _ := setup(t)
	resp, err := http.Post(ctl+"/rules", "application/json", strings.NewReader(`{"action":"latency","after":true}`))
	if err != nil || resp.StatusCode != 400 {
		t.Fatalf("after on latency: want 400, got %v %v", err, resp)
	}
}

func TestFaultTalliesAndSeed(t *testing.T) {
	run := func() (codes []int, faults map[string]int) {
		_, c, pu, ctl, _ := setup(t)
		resp, err := http.Post(ctl+"/seed", "application/json", strings.NewReader(`{"seed": 7}`))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("seed: %v %v", err, resp)
		}
		addRule(t, ctl, Rule{Path: "^/a", Action: ActionStatus, Status: 500, Probability: 0.3})
		addRule(t, ctl, Rule{Path: "^/a", Action: ActionLatency, LatencyMs: 1, Probability: 0.5})
		for i := 0; i < 60; i++ {
			r, _, err := get(t, c, pu+"/a/"+strconv.Itoa(i%3))
			if err != nil {
				t.Fatal(err)
			}
			codes = append(codes, r.StatusCode)
		}
		_, body, _ := get(t, http.DefaultClient, ctl+"/faults")
		json.Unmarshal([]byte(body), &faults)
		return codes, faults
	}
	c1, f1 := run()
	c2, f2 := run()
	n500 := 0
	for i := range c1 {
		if c1[i] != c2[i] {
			t.Fatalf("seeded runs differ at %d: %v vs %v", i, c1, c2)
		}
		if c1[i] == 500 {
			n500++
		}
	}
	sum := 0
	for k, v := range f1 {
		if !strings.HasPrefix(k, "status 500 GET /a/") || f2[k] != v {
			t.Fatalf("fault tallies %v vs %v", f1, f2)
		}
		sum += v
	}
	if n500 == 0 || sum != n500 {
		t.Fatalf("tallies %v count %d faults, the client saw %d", f1, sum, n500)
	}
}
