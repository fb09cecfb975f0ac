package artifacts

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func fixtureTree(t *testing.T) (string, []byte) {
	root := t.TempDir()
	data := []byte(strings.Repeat("apiVersion: v1\nkind: ConfigMap\n", 2000)) // 62 KB
	dir := filepath.Join(root, "gateway-api", "v1.2.1")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "standard-install.yaml"), data, 0o644)
	os.MkdirAll(filepath.Join(root, "kserve", "v0.15.2"), 0o755)
	os.WriteFile(filepath.Join(root, "kserve", "v0.15.2", "kserve.yaml"), []byte("kserve"), 0o644)
	return root, data
}

func fetch(t *testing.T, c *http.Client, u string) (int, []byte, error) {
	resp, err := c.Get(u)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func sum(b []byte) string { return fmt.Sprintf("%x", sha256.Sum256(b)) }

func TestServe(t *testing.T) {
	root, data := fixtureTree(t)
	srv := httptest.NewTLSServer(New(root))
	defer srv.Close()
	c := srv.Client()
	rel := "/kubernetes-sigs/gateway-api/releases/download/v1.2.1/standard-install.yaml"

	code, b, err := fetch(t, c, srv.URL+rel)
	if err != nil || code != 200 || sum(b) != sum(data) {
		t.Fatalf("release path: %v %d %d bytes", err, code, len(b))
	}
	if code, b, _ := fetch(t, c, srv.URL+"/kserve/kserve/releases/download/v0.15.2/kserve.yaml"); code != 200 || string(b) != "kserve" {
		t.Fatalf("kserve release path: %d %q", code, b)
	}
	if code, b, _ := fetch(t, c, srv.URL+"/fixtures/gateway-api/v1.2.1/standard-install.yaml"); code != 200 || len(b) != len(data) {
		t.Fatalf("fixtures path: %d", code)
	}
	for _, p := range []string{"/nope", "/kubernetes-sigs/gateway-api/releases/download/v9/standard-install.yaml", "/fixtures/../../etc/passwd", "/other/repo/releases/download/v1/x"} {
		if code, _, _ := fetch(t, c, srv.URL+p); code != 404 {
			t.Fatalf("%s: want 404, got %d", p, code)
		}
	}
	// truncate: short body, consistent length.
	for _, u := range []string{rel + "?truncate=100", "/_truncate/100" + rel} {
		code, b, err := fetch(t, c, srv.URL+u)
		if err != nil || code != 200 || len(b) != 100 || string(b) != string(data[:100]) {
			t.Fatalf("%s: %v %d %d", u, err, code, len(b))
		}
	}
	// cut: the client sees an unexpected EOF.
	for _, u := range []string{rel + "?cut=5000", "/_cut/5000" + rel} {
		_, b, err := fetch(t, c, srv.URL+u)
		if err == nil || len(b) >= len(data) {
			t.Fatalf("%s: want a read error, got %v with %d bytes", u, err, len(b))
		}
	}
	// tamper: same length, other checksum.
	for _, u := range []string{rel + "?tamper=1", "/_tamper" + rel} {
		code, b, err := fetch(t, c, srv.URL+u)
		if err != nil || code != 200 || len(b) != len(data) || sum(b) == sum(data) {
			t.Fatalf("%s: %v %d len %d", u, err, code, len(b))
		}
	}
	// slow: 62 KB in 4 KiB chunks, 20 ms apart.
	start := time.Now()
	if code, b, err := fetch(t, c, srv.URL+"/_slow/20"+rel); err != nil || code != 200 || len(b) != len(data) {
		t.Fatalf("slow: %v %d", err, code)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("slow served in %v", d)
	}
	// status and delay.
	if code, _, _ := fetch(t, c, srv.URL+rel+"?status=503"); code != 503 {
		t.Fatalf("status: %d", code)
	}
	if code, _, _ := fetch(t, c, srv.URL+"/_status/429"+rel); code != 429 {
		t.Fatalf("status prefix: %d", code)
	}
	start = time.Now()
	fetch(t, c, srv.URL+rel+"?delay=200")
	if time.Since(start) < 200*time.Millisecond {
		t.Fatal("delay not applied")
	}
	// fail: 500 to the first N requests for the exact path, then the file.
	u := "/_fail/2/_id/a" + rel
	for i, want := range []int{500, 500, 200, 200} {
		if code, b, _ := fetch(t, c, srv.URL+u); code != want || (want == 200 && sum(b) != sum(data)) {
			t.Fatalf("%s request %d: %d, want %d", u, i+1, code, want)
		}
	}
	if code, _, _ := fetch(t, c, srv.URL+"/_fail/2/_id/b"+rel); code != 500 {
		t.Fatalf("another _id counts anew: %d", code)
	}
	// Range requests on the undamaged path.
	req, _ := http.NewRequest("GET", srv.URL+rel, nil)
	req.Header.Set("Range", "bytes=10-19")
	resp, err := c.Do(req)
	if err != nil || resp.StatusCode != 206 {
		t.Fatalf("range: %v %v", err, resp)
	}
	b, _ = io.ReadAll(resp.Body)
	if string(b) != string(data[10:20]) {
		t.Fatalf("range body %q", b)
	}
}

// TestRealFixtures checks the shared fixtures are served byte for byte.
func TestRealFixtures(t *testing.T) {
	root := os.Getenv("KSTAGE_FIXTURES")
	if root == "" {
		root = "../../../../shared/fixtures"
	}
	want, err := os.ReadFile(filepath.Join(root, "gateway-api/v1.2.1/standard-install.yaml"))
	if err != nil {
		t.Skip("shared fixtures not found:", err)
	}
	srv := httptest.NewTLSServer(New(root))
	defer srv.Close()
	_, b, err := fetch(t, srv.Client(), srv.URL+"/kubernetes-sigs/gateway-api/releases/download/v1.2.1/standard-install.yaml")
	if err != nil || sum(b) != sum(want) {
		t.Fatalf("real fixture differs: %v", err)
	}
}

// TestMoreRoots: a file missing from the fixtures is served from the next
// root that has it; a file in both comes from the fixtures.
func TestMoreRoots(t *testing.T) {
	root, data := fixtureTree(t)
	more := t.TempDir()
	dir := filepath.Join(more, "gateway-api", "v1.5.1")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "experimental-install.yaml"), []byte("rebuilt"), 0o644)
	os.MkdirAll(filepath.Join(more, "gateway-api", "v1.2.1"), 0o755)
	os.WriteFile(filepath.Join(more, "gateway-api", "v1.2.1", "standard-install.yaml"), []byte("shadowed"), 0o644)
	srv := httptest.NewTLSServer(New(root, t.TempDir(), more))
	defer srv.Close()
	c := srv.Client()
	const rel = "/kubernetes-sigs/gateway-api/releases/download/"
	if code, b, _ := fetch(t, c, srv.URL+rel+"v1.5.1/experimental-install.yaml"); code != 200 || string(b) != "rebuilt" {
		t.Fatalf("from the further root: %d %q", code, b)
	}
	if code, b, _ := fetch(t, c, srv.URL+"/_tamper"+rel+"v1.5.1/experimental-install.yaml"); code != 200 || string(b) == "rebuilt" {
		t.Fatalf("damage applies to the further root: %d %q", code, b)
	}
	if code, b, _ := fetch(t, c, srv.URL+rel+"v1.2.1/standard-install.yaml"); code != 200 || sum(b) != sum(data) {
		t.Fatalf("fixtures first: %d %d bytes", code, len(b))
	}
	if code, _, _ := fetch(t, c, srv.URL+rel+"v1.5.1/standard-install.yaml"); code != 404 {
		t.Fatalf("missing everywhere: want 404, got %d", code)
	}
}
