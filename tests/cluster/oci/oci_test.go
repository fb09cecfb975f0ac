package oci

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func chartTgz(t *testing.T, name, version string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	body := []byte("apiVersion: v2\nname: " + name + "\nversion: " + version + "\ndescription: test\n")
	tw.WriteHeader(&tar.Header{Name: name + "/Chart.yaml", Mode: 0o644, Size: int64(len(body))})
	tw.Write(body)
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func getJSON(t *testing.T, c *http.Client, u, accept string, v any) []byte {
	req, _ := http.NewRequest("GET", u, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s %s", u, resp.Status, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func checkChart(t *testing.T, srv *httptest.Server, repo, tag string, tgz []byte, wantName string) {
	c := srv.Client()
	var m manifest
	getJSON(t, c, srv.URL+"/v2/"+repo+"/manifests/"+tag, ManifestMediaType, &m)
	if m.Config.MediaType != ConfigMediaType || len(m.Layers) != 1 || m.Layers[0].MediaType != LayerMediaType {
		t.Fatalf("manifest media types: %+v", m)
	}
	var cfg map[string]any
	getJSON(t, c, srv.URL+"/v2/"+repo+"/blobs/"+m.Config.Digest, "", &cfg)
	if cfg["name"] != wantName || cfg["version"] != tag {
		t.Fatalf("helm config %v", cfg)
	}
	layer := getJSON(t, c, srv.URL+"/v2/"+repo+"/blobs/"+m.Layers[0].Digest, "", nil)
	if !bytes.Equal(layer, tgz) {
		t.Fatal("layer differs from the chart archive")
	}
	var tags struct{ Tags []string }
	getJSON(t, c, srv.URL+"/v2/"+repo+"/tags/list", "", &tags)
	if len(tags.Tags) != 1 || tags.Tags[0] != tag {
		t.Fatalf("tags %v", tags)
	}
}

func TestPushChart(t *testing.T) {
	reg := New()
	tgz := chartTgz(t, "hello", "0.1.0+build.1")
	if _, err := PushChart(reg, "charts/hello", "", tgz); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(reg)
	defer srv.Close()
	// Helm maps "+" in versions to "_" in tags.
	var m manifest
	getJSON(t, srv.Client(), srv.URL+"/v2/charts/hello/manifests/0.1.0_build.1", ManifestMediaType, &m)
	if m.Annotations["org.opencontainers.image.version"] != "0.1.0+build.1" {
		t.Fatalf("annotations %v", m.Annotations)
	}
}

func TestPreloadKServeCharts(t *testing.T) {
	root := os.Getenv("KSTAGE_FIXTURES")
	if root == "" {
		root = "../../../../shared/fixtures"
	}
	dir := filepath.Join(root, "kserve", "v0.15.2")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("fixtures not found:", err)
	}
	reg := New()
	charts := map[string]string{
		"kserve/charts/kserve:v0.15.2":     filepath.Join(dir, "kserve-v0.15.2.tgz"),
		"kserve/charts/kserve-crd:v0.15.2": filepath.Join(dir, "kserve-crd-v0.15.2.tgz"),
	}
	if err := Preload(reg, charts); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(reg)
	defer srv.Close()
	for ref, file := range charts {
		tgz, _ := os.ReadFile(file)
		repo, tag := ref[:len(ref)-len(":v0.15.2")], "v0.15.2"
		checkChart(t, srv, repo, tag, tgz, filepath.Base(repo))
	}
}
