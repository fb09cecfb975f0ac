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
	find := kserveBin(dir)
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
