package gitserver

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCloneOverSmartHTTP(t *testing.T) {
	root := t.TempDir()
	commit, err := CreateRepo(root, "bundle")
	if err != nil {
		t.Fatal(err)
	}
	if len(commit) != 40 {
		t.Fatalf("commit %q", commit)
	}
	// Deterministic: the same files, author and dates give the same SHA.
	again, err := CreateRepo(t.TempDir(), "bundle")
	if err != nil || again != commit {
		t.Fatalf("commit not reproducible: %s vs %s (%v)", commit, again, err)
	}
	h, err := Handler(root)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	dst := filepath.Join(t.TempDir(), "clone")
	cmd := exec.Command("git", "clone", "-q", srv.URL+"/bundle.git", dst)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clone: %v %s", err, out)
	}
	head, err := exec.Command("git", "-C", dst, "rev-parse", "HEAD").Output()
	if err != nil || strings.TrimSpace(string(head)) != commit {
		t.Fatalf("HEAD %s want %s (%v)", head, commit, err)
	}
	b, err := os.ReadFile(filepath.Join(dst, "charts/hello/Chart.yaml"))
	if err != nil || !strings.Contains(string(b), "name: hello") {
		t.Fatalf("chart missing: %v", err)
	}
	tags, _ := exec.Command("git", "ls-remote", "--tags", srv.URL+"/bundle.git").Output()
	if !strings.Contains(string(tags), "refs/tags/v0.1.0") {
		t.Fatalf("tags: %s", tags)
	}
	// Smart protocol, not dumb: the info/refs advertisement names the service.
	resp, err := http.Get(srv.URL + "/bundle.git/info/refs?service=git-upload-pack")
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(out), "# service=git-upload-pack") {
		t.Fatalf("not smart HTTP: %.200s", out)
	}
}
