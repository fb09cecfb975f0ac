package oci

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestWithAuth(t *testing.T) {
	reg := New()
	tgz := chartTgz(t, "hello", "0.1.0")
	for _, repo := range []string{"bearer/charts/hello", "basic/charts/hello", "open/hello"} {
		if _, err := PushChart(reg, repo, "", tgz); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewTLSServer(WithAuth(reg))
	defer srv.Close()
	c := srv.Client()
	get := func(url, auth string) *http.Response {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Accept", ManifestMediaType)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rs, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		rs.Body.Close()
		return rs
	}
	host := strings.TrimPrefix(srv.URL, "https://")
	if rs := get(srv.URL+"/v2/open/hello/manifests/0.1.0", ""); rs.StatusCode != 200 {
		t.Fatalf("open: %d", rs.StatusCode)
	}
	rs := get(srv.URL+"/v2/bearer/charts/hello/manifests/0.1.0", "")
	want := `Bearer realm="https://` + host + `/token",service="kstage-test-registry",scope="repository:bearer/charts/hello:pull"`
	if rs.StatusCode != 401 || rs.Header.Get("WWW-Authenticate") != want {
		t.Fatalf("bearer challenge: %d %q", rs.StatusCode, rs.Header.Get("WWW-Authenticate"))
	}
	tokURL := srv.URL + "/token?service=kstage-test-registry&scope=repository:bearer/charts/hello:pull"
	if rs := get(tokURL, ""); rs.StatusCode != 401 {
		t.Fatalf("anonymous token: %d", rs.StatusCode)
	}
	req, _ := http.NewRequest("GET", tokURL, nil)
	req.SetBasicAuth(AuthUser, AuthPassword)
	trs, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token string }
	_ = json.NewDecoder(trs.Body).Decode(&tok)
	trs.Body.Close()
	if tok.Token == "" {
		t.Fatal("no token")
	}
	if rs := get(srv.URL+"/v2/bearer/charts/hello/manifests/0.1.0", "Bearer "+tok.Token); rs.StatusCode != 200 {
		t.Fatalf("with token: %d", rs.StatusCode)
	}
	if rs := get(srv.URL+"/v2/bearer/other/manifests/0.1.0", "Bearer "+tok.Token); rs.StatusCode != 401 {
		t.Fatalf("token for another repository: %d", rs.StatusCode)
	}
	if rs := get(srv.URL+"/v2/basic/charts/hello/manifests/0.1.0", ""); rs.StatusCode != 401 ||
		!strings.HasPrefix(rs.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Fatalf("basic challenge: %d", rs.StatusCode)
	}
	req, _ = http.NewRequest("GET", srv.URL+"/v2/basic/charts/hello/manifests/0.1.0", nil)
	req.SetBasicAuth(AuthUser, AuthPassword)
	if brs, err := c.Do(req); err != nil || brs.StatusCode != 200 {
		t.Fatalf("basic: %v %v", err, brs)
	}
}
