// Package gitserver serves bare git repositories over smart HTTP using
// `git http-backend` (net/http/cgi), and creates a small fixture repository.
package gitserver

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Handler serves every bare repo under root (read and push; no auth).
func Handler(root string) (http.Handler, error) {
	backend, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		return nil, fmt.Errorf("git --exec-path: %v", err)
	}
	path := filepath.Join(strings.TrimSpace(string(backend)), "git-http-backend")
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	return &cgi.Handler{
		Path: path,
		Env: []string{
			"GIT_PROJECT_ROOT=" + root,
			"GIT_HTTP_EXPORT_ALL=1",
			"REMOTE_USER=kstage",
			"HOME=" + root,
			"GIT_CONFIG_NOSYSTEM=1",
		},
	}, nil
}

// Files of the fixture repository: a small chart and a bundle file.
var Files = map[string]string{
	"README.md": "Fixture repository served by the kstage test cluster.\n",
	"charts/hello/Chart.yaml": `apiVersion: v2
name: hello
description: A tiny chart for kstage tests
type: application
version: 0.1.0
appVersion: "1.0.0"
`,
	"charts/hello/values.yaml": `message: hello from git
replicas: 1
`,
	"charts/hello/templates/configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-hello
  labels:
    app.kubernetes.io/name: hello
    app.kubernetes.io/instance: {{ .Release.Name }}
data:
  message: {{ .Values.message | quote }}
`,
	"bundle.yaml": `# A kstage bundle pointing at the chart in this repository.
name: hello-bundle
stages:
  - name: hello
    chart: charts/hello
    namespace: default
`,
}

func run(dir string, env []string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return strings.TrimSpace(out.String()), nil
}

// CreateRepo makes root/<name>.git (bare) holding Files in one commit on
// branch main, tagged v0.1.0, with fixed author and dates so the commit SHA is
// the same on every run. It returns the commit SHA.
func CreateRepo(root, name string) (string, error) {
	work := filepath.Join(root, ".work-"+name)
	bare := filepath.Join(root, name+".git")
	os.RemoveAll(work)
	os.RemoveAll(bare)
	if err := os.MkdirAll(work, 0o755); err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	for p, c := range Files {
		f := filepath.Join(work, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(f, []byte(c), 0o644); err != nil {
			return "", err
		}
	}
	env := []string{
		"GIT_AUTHOR_NAME=kstage", "GIT_AUTHOR_EMAIL=kstage@example.invalid", "GIT_AUTHOR_DATE=2025-01-01T00:00:00Z",
		"GIT_COMMITTER_NAME=kstage", "GIT_COMMITTER_EMAIL=kstage@example.invalid", "GIT_COMMITTER_DATE=2025-01-01T00:00:00Z",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
	}
	steps := [][]string{
		{"init", "-q", "-b", "main"},
		{"add", "-A"},
		{"commit", "-q", "-m", "kstage fixture bundle"},
		{"tag", "v0.1.0"},
		{"clone", "-q", "--bare", work, bare},
	}
	for _, s := range steps {
		if _, err := run(work, env, s...); err != nil {
			return "", err
		}
	}
	if _, err := run(bare, env, "config", "http.receivepack", "true"); err != nil {
		return "", err
	}
	if _, err := run(bare, env, "update-server-info"); err != nil {
		return "", err
	}
	return run(bare, env, "rev-parse", "refs/heads/main")
}
