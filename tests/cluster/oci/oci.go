// Package oci is an in-memory OCI registry (go-containerregistry's) preloaded
// with Helm charts pushed as Helm OCI artifacts.
package oci

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"strings"

	"github.com/google/go-containerregistry/pkg/registry"
	"sigs.k8s.io/yaml"
)

// Media types Helm uses for charts in OCI registries.
const (
	ManifestMediaType = "application/vnd.oci.image.manifest.v1+json"
	ConfigMediaType   = "application/vnd.cncf.helm.config.v1+json"
	LayerMediaType    = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
)

// New returns a registry handler (anonymous access, in memory).
func New() http.Handler {
	return registry.New(registry.Logger(log.New(io.Discard, "", 0)))
}

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int               `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type manifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	Config        descriptor        `json:"config"`
	Layers        []descriptor      `json:"layers"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

func digest(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }

// ChartMeta reads <chart>/Chart.yaml from a chart archive and returns it as JSON plus name and version.
func ChartMeta(tgz []byte) (cfg []byte, name, version string, err error) {
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return nil, "", "", err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err != nil {
			return nil, "", "", fmt.Errorf("no Chart.yaml in archive: %v", err)
		}
		parts := strings.Split(h.Name, "/")
		if len(parts) == 2 && parts[1] == "Chart.yaml" {
			y, err := io.ReadAll(tr)
			if err != nil {
				return nil, "", "", err
			}
			j, err := yaml.YAMLToJSON(y)
			if err != nil {
				return nil, "", "", err
			}
			var m struct{ Name, Version string }
			json.Unmarshal(j, &m)
			return j, m.Name, m.Version, nil
		}
	}
}

func do(h http.Handler, method, url, ctype string, body []byte) (*http.Response, error) {
	req := httptest.NewRequest(method, url, bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(resp.Body)
		return resp, fmt.Errorf("%s %s: %s %s", method, url, resp.Status, b)
	}
	return resp, nil
}

func pushBlob(h http.Handler, repo string, b []byte) error {
	resp, err := do(h, "POST", "/v2/"+repo+"/blobs/uploads/", "", nil)
	if err != nil {
		return err
	}
	loc := resp.Header.Get("Location")
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	_, err = do(h, "PUT", loc+sep+"digest="+digest(b), "application/octet-stream", b)
	return err
}

// PushChart pushes a chart archive to repo:tag as a Helm OCI artifact and returns the manifest digest.
// repo is the repository path without host, e.g. "kserve/charts/kserve"; tag "" means the chart version.
func PushChart(h http.Handler, repo, tag string, tgz []byte) (string, error) {
	cfg, name, version, err := ChartMeta(tgz)
	if err != nil {
		return "", err
	}
	if tag == "" {
		tag = strings.ReplaceAll(version, "+", "_")
	}
	if err := pushBlob(h, repo, cfg); err != nil {
		return "", err
	}
	if err := pushBlob(h, repo, tgz); err != nil {
		return "", err
	}
	m := manifest{
		SchemaVersion: 2, MediaType: ManifestMediaType,
		Config: descriptor{MediaType: ConfigMediaType, Digest: digest(cfg), Size: len(cfg)},
		Layers: []descriptor{{MediaType: LayerMediaType, Digest: digest(tgz), Size: len(tgz)}},
		Annotations: map[string]string{
			"org.opencontainers.image.title":   name,
			"org.opencontainers.image.version": version,
		},
	}
	mb, _ := json.Marshal(m)
	if _, err := do(h, "PUT", "/v2/"+repo+"/manifests/"+tag, ManifestMediaType, mb); err != nil {
		return "", err
	}
	return digest(mb), nil
}

// Preload pushes charts: key is "repo:tag" or "repo" (tag = chart version), value a file path.
func Preload(h http.Handler, charts map[string]string) error {
	for ref, file := range charts {
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		repo, tag, _ := strings.Cut(ref, ":")
		if _, err := PushChart(h, path.Clean(repo), tag, b); err != nil {
			return fmt.Errorf("push %s: %w", ref, err)
		}
	}
	return nil
}
