package sim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

func TestIris(t *testing.T) {
	cases := []struct {
		x    []float64
		want int
	}{
		{[]float64{5.1, 3.5, 1.4, 0.2}, 0},
		{[]float64{6.8, 2.8, 4.8, 1.4}, 1}, // the KServe sample request
		{[]float64{6.0, 3.4, 4.5, 1.6}, 1},
		{[]float64{6.3, 3.3, 6.0, 2.5}, 2},
		{[]float64{6.0, 2.2, 5.0, 1.5}, 2},
	}
	for _, c := range cases {
		if got := Iris(c.x); got != c.want {
			t.Errorf("Iris(%v)=%d want %d", c.x, got, c.want)
		}
	}
}

func TestParseKServeConfig(t *testing.T) {
	ok := `{"enableGatewayApi": true, "kserveIngressGateway": "kserve/kserve-ingress-gateway", "ingressGateway": "knative-serving/knative-ingress-gateway", "ingressDomain": "example.com"}`
	cfg, err := ParseKServeConfig(map[string]string{"ingress": ok, "deploy": `{"defaultDeploymentMode": "RawDeployment"}`}, true)
	if err != nil || !cfg.Ingress.EnableGatewayAPI || cfg.DefaultDeploymentMode != "RawDeployment" || cfg.Ingress.URLScheme != "http" {
		t.Fatalf("valid config: %+v %v", cfg, err)
	}
	if _, err := ParseKServeConfig(map[string]string{"ingress": ok}, false); err == nil || !strings.Contains(err.Error(), `no matches for kind "HTTPRoute"`) {
		t.Fatalf("gateway API without the HTTPRoute CRD: %v", err)
	}
	off := `{"enableGatewayApi": false, "ingressGateway": "a/b"}`
	if _, err := ParseKServeConfig(map[string]string{"ingress": off}, false); err != nil {
		t.Fatalf("gateway API off needs no CRD: %v", err)
	}
	if _, err := ParseKServeConfig(map[string]string{"ingress": `{"enableGatewayApi": false}`}, true); err == nil || !strings.Contains(err.Error(), "ingressGateway is required") {
		t.Fatalf("missing ingressGateway: %v", err)
	}
	if _, err := ParseKServeConfig(map[string]string{"ingress": `{"enableGatewayApi": true, "ingressGateway": "a/b", "kserveIngressGateway": "nons"}`}, true); err == nil {
		t.Fatal("bad kserveIngressGateway accepted")
	}
	if _, err := ParseKServeConfig(map[string]string{"ingress": `{not json`}, true); err == nil {
		t.Fatal("bad JSON accepted")
	}
	if _, err := ParseKServeConfig(map[string]string{}, true); err == nil {
		t.Fatal("missing key accepted")
	}
	if h := isvcHost(cfg.Ingress, "iris", "team-a"); h != "iris-team-a.example.com" {
		t.Fatalf("host %s", h)
	}
}

func TestKnobs(t *testing.T) {
	k := knobsOf(map[string]string{KnobDelay: "1.5", KnobNeverReady: "true"}, map[string]string{KnobFail: "true", KnobDelay: "9"})
	if k.delay != 1500*time.Millisecond || !k.neverReady || k.fail == "" {
		t.Fatalf("%+v", k)
	}
	if k := knobsOf(map[string]string{KnobFail: "disk full"}); k.fail != "disk full" {
		t.Fatalf("%+v", k)
	}
	if k := knobsOf(nil, map[string]string{KnobFail: "false"}); k.fail != "" || k.neverReady || k.delay != 0 {
		t.Fatalf("%+v", k)
	}
}

func TestMergeConds(t *testing.T) {
	old := []any{
		map[string]any{"type": "Accepted", "status": "True", "lastTransitionTime": "T0"},
		map[string]any{"type": "Other", "status": "True", "lastTransitionTime": "T0"},
	}
	out := mergeConds(old, cond("Accepted", "True", "Accepted", "", 2), cond("Programmed", "False", "Invalid", "x", 2))
	if len(out) != 3 {
		t.Fatalf("%v", out)
	}
	a := out[0].(map[string]any)
	if a["lastTransitionTime"] != "T0" || a["observedGeneration"] != int64(2) {
		t.Fatalf("unchanged status must keep its transition time: %v", a)
	}
	out = mergeConds(old, cond("Accepted", "False", "X", "", 3))
	if out[0].(map[string]any)["lastTransitionTime"] == "T0" {
		t.Fatal("changed status must get a new transition time")
	}
}

func TestDataPlaneRouting(t *testing.T) {
	tab := &RouteTable{}
	tab.SetRoutes([]Route{
		{Namespace: "team-a", Name: "iris", Gateway: "kserve/gw", Hostnames: []string{"iris-team-a.example.com"},
			Rules: []RouteRule{{PathType: "PathPrefix", Path: "/", Backends: []Backend{{"team-a", "iris-predictor", 80}}}}},
		{Namespace: "web", Name: "site", Gateway: "kserve/gw", Hostnames: []string{"*.example.org"},
			Rules: []RouteRule{
				{PathType: "PathPrefix", Path: "/", Backends: []Backend{{"web", "front", 80}}},
				{PathType: "PathPrefix", Path: "/api", Backends: []Backend{{"web", "api", 8080}}},
				{PathType: "Exact", Path: "/healthz", Backends: []Backend{{"web", "health", 80}}},
			}},
	})
	tab.SetModels(map[string]string{"team-a/iris-predictor": "iris"})
	srv := httptest.NewServer(tab)
	defer srv.Close()
	do := func(host, method, path, body string) (*http.Response, map[string]any) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp, m
	}
	cases := []struct{ host, path, backend string }{
		{"www.example.org", "/", "web/front:80"},
		{"a.example.org:8080", "/api/v1", "web/api:8080"},
		{"www.example.org", "/apix", "web/front:80"},
		{"www.example.org", "/healthz", "web/health:80"},
	}
	for _, c := range cases {
		resp, m := do(c.host, "GET", c.path, "")
		if resp.StatusCode != 200 || m["backend"] != c.backend {
			t.Errorf("%s%s: %d %v", c.host, c.path, resp.StatusCode, m)
		}
	}
	if resp, _ := do("example.org", "GET", "/", ""); resp.StatusCode != 404 {
		t.Errorf("wildcard must not match the bare domain: %d", resp.StatusCode)
	}
	if resp, _ := do("unknown.test", "GET", "/", ""); resp.StatusCode != 404 {
		t.Errorf("no route: %d", resp.StatusCode)
	}
	// Inference through the route.
	body := `{"id":"req-1","inputs":[{"name":"input-0","shape":[2,4],"datatype":"FP32","data":[[6.8,2.8,4.8,1.4],[5.1,3.5,1.4,0.2]]}]}`
	resp, m := do("iris-team-a.example.com", "POST", "/v2/models/iris/infer", body)
	if resp.StatusCode != 200 || m["model_name"] != "iris" || m["id"] != "req-1" {
		t.Fatalf("infer: %d %v", resp.StatusCode, m)
	}
	out := m["outputs"].([]any)[0].(map[string]any)
	data := out["data"].([]any)
	if out["datatype"] != "INT32" || len(data) != 2 || data[0] != 1.0 || data[1] != 0.0 {
		t.Fatalf("outputs %v", out)
	}
	if resp, m := do("iris-team-a.example.com", "POST", "/v2/models/other/infer", body); resp.StatusCode != 404 || !strings.Contains(m["error"].(string), "does not exist") {
		t.Fatalf("unknown model: %d %v", resp.StatusCode, m)
	}
	if resp, _ := do("iris-team-a.example.com", "POST", "/v2/models/iris/infer", `{"inputs":[{"data":[1,2,3]}]}`); resp.StatusCode != 400 {
		t.Fatalf("bad shape: %d", resp.StatusCode)
	}
	if resp, m := do("iris-team-a.example.com", "GET", "/v2/models/iris/ready", ""); resp.StatusCode != 200 || m["ready"] != true {
		t.Fatalf("ready: %d %v", resp.StatusCode, m)
	}
	if resp, m := do("iris-team-a.example.com", "POST", "/v1/models/iris:predict", `{"instances":[[6.3,3.3,6.0,2.5]]}`); resp.StatusCode != 200 || m["predictions"].([]any)[0] != 2.0 {
		t.Fatalf("v1 predict: %d %v", resp.StatusCode, m)
	}
}

func TestServedControllers(t *testing.T) {
	stand := New(nil, nil, "n", "127.0.0.1:1")
	real := New(nil, nil, "n", "127.0.0.1:1")
	real.Real = []*RealController{{Name: "envoy-gateway"}}
	for cn, want := range map[string][2]bool{ // stand-in alone, with the real Envoy Gateway
		EnvoyController:                     {true, false},
		IstioController:                     {true, true},
		"konghq.com/kic-gateway-controller": {false, false},
		"":                                  {false, false},
	} {
		if got := [2]bool{stand.served(cn), real.served(cn)}; got != want {
			t.Errorf("served(%q) = %v, want %v", cn, got, want)
		}
	}
}

func TestStartLog(t *testing.T) {
	dir := t.TempDir()
	log := dir + "/kserve-pod.log"
	rc := &RealController{Container: "manager", procs: map[types.UID]*realProc{"u1": {logPath: log}}}
	for _, c := range []struct{ file, want string }{
		{"--- start 1 of pod kserve/p at T: manager --a\nfirst line\nsecond\n", "first line\nsecond\n"},
		{"--- start 1 of pod kserve/p at T: manager\nold\n--- start 2 of pod kserve/p at T: manager\nnew --- start not a header\n",
			"new --- start not a header\n"},
		{"no header\n", "no header\n"},
	} {
		if err := os.WriteFile(log, []byte(c.file), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, ok := rc.PodLog("u1", "manager"); !ok || got != c.want {
			t.Errorf("PodLog of %q = %q, %v; want %q", c.file, got, ok, c.want)
		}
	}
	if got := tailLog(log, 5); got != "ader" { // the last 5 bytes, trimmed
		t.Errorf("tailLog = %q", got)
	}
	if _, ok := rc.PodLog("u1", "kube-rbac-proxy"); ok {
		t.Error("PodLog answered for a container the binary does not stand for")
	}
	if _, ok := rc.PodLog("u2", "manager"); ok {
		t.Error("PodLog answered for a pod it runs no process for")
	}
}
