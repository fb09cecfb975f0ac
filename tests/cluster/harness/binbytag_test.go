package harness

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKServeBinByImageTag(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "kserve-v0.15.2", "manager")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	find := binByTag(dir, "kserve", "manager", "KServe controller")
	for _, img := range []string{"kserve/kserve-controller:v0.15.2", "registry:5000/kserve/kserve-controller:v0.15.2"} {
		if got, err := find(img); err != nil || got != bin {
			t.Errorf("%s: %q, %v; want %q", img, got, err, bin)
		}
	}
	for img, want := range map[string]string{
		"kserve/kserve-controller:v0.20.0":       "no real KServe controller for image kserve/kserve-controller:v0.20.0",
		"registry:5000/kserve/kserve-controller": "has no version tag",
	} {
		if _, err := find(img); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", img, err, want)
		}
	}
}

func TestEnvoyGatewayBinByImageTag(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []string{"v1.3.3", "v1.8.3"} {
		bin := filepath.Join(dir, "envoy-gateway-"+v, "envoy-gateway")
		if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	find := binByTag(dir, "envoy-gateway", "envoy-gateway", "Envoy Gateway")
	for img, v := range map[string]string{"docker.io/envoyproxy/gateway:v1.3.3": "v1.3.3", "docker.io/envoyproxy/gateway:v1.8.3": "v1.8.3"} {
		want := filepath.Join(dir, "envoy-gateway-"+v, "envoy-gateway")
		if got, err := find(img); err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", img, got, err, want)
		}
	}
	if _, err := find("docker.io/envoyproxy/gateway:v1.7.0"); err == nil ||
		!strings.Contains(err.Error(), "no real Envoy Gateway for image docker.io/envoyproxy/gateway:v1.7.0") {
		t.Errorf("v1.7.0: error %v", err)
	}
}
