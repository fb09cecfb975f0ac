// Package harness starts and stops the test cluster: certificates, tokens,
// processes, kubeconfigs and the env file.
package harness

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// State is written by up to DIR/state.json and read by sim, preload and down.
type State struct {
	Dir            string `json:"dir"`
	Fixtures       string `json:"fixtures"`
	EtcdURL        string `json:"etcdURL"`
	EtcdPeerURL    string `json:"etcdPeerURL"`
	APIServerURL   string `json:"apiServerURL"`
	ProxyAddr      string `json:"proxyAddr"`
	ControlAddr    string `json:"controlAddr"`
	ArtifactAddr   string `json:"artifactAddr"`
	OCIAddr        string `json:"ociAddr"`
	GitAddr        string `json:"gitAddr"`     // HTTPS
	GitHTTPAddr    string `json:"gitHTTPAddr"` // plain HTTP
	DataplaneAddr  string `json:"dataplaneAddr"`
	AdminToken     string `json:"adminToken"`
	LimitedToken   string `json:"limitedToken"`
	LimitedNS      string `json:"limitedNamespace"`
	NodeName       string `json:"nodeName"`
	GitCommit      string `json:"gitCommit,omitempty"`
	ServiceCIDR    string `json:"serviceCIDR"`
	ClusterCAFile  string `json:"clusterCAFile"`
	ArtifactCAFile string `json:"artifactCAFile"`
	// KServeBinDir holds the real KServe controller managers, DIR/kserve-<image tag>/manager,
	// run for the controller's pods; "" runs the KServe stand-in instead.
	KServeBinDir string `json:"kserveBinDir,omitempty"`
	// EnvoyGatewayBinDir holds the real Envoy Gateway binaries,
	// DIR/envoy-gateway-<image tag>/envoy-gateway, run for its pods and its
	// chart's certgen Job; "" runs the Envoy Gateway stand-in instead.
	EnvoyGatewayBinDir string `json:"envoyGatewayBinDir,omitempty"`
}

func (s *State) path(name string) string { return filepath.Join(s.Dir, name) }

// Save writes the state file.
func (s *State) Save() error {
	b, _ := json.MarshalIndent(s, "", "  ")
	return os.WriteFile(s.path("state.json"), b, 0o600)
}

// LoadState reads DIR/state.json.
func LoadState(dir string) (*State, error) {
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// freePorts reserves n distinct free TCP ports on 127.0.0.1. The listeners
// are closed before returning; the window for a clash is tiny on a test box.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// kserveController says what reconciles KServe's objects: "real" (KServe's own
// controller manager) or "sim" (the stand-in).
func (s *State) kserveController() string {
	if s.KServeBinDir != "" {
		return "real"
	}
	return "sim"
}

// EnvLines returns the env file contents.
func (s *State) EnvLines() string {
	kv := [][2]string{
		{"KSTAGE_CLUSTER_DIR", s.Dir},
		{"KUBECONFIG", s.path("kubeconfig")},
		{"KSTAGE_KUBECONFIG", s.path("kubeconfig")},
		{"KSTAGE_DIRECT_KUBECONFIG", s.path("direct.kubeconfig")},
		{"KSTAGE_LIMITED_KUBECONFIG", s.path("limited.kubeconfig")},
		{"KSTAGE_CERT_KUBECONFIG", s.path("cert.kubeconfig")},
		{"KSTAGE_LIMITED_NAMESPACE", s.LimitedNS},
		{"KSTAGE_API_URL", "https://" + s.ProxyAddr},
		{"KSTAGE_API_PROXY_URL", "https://" + s.ProxyAddr},
		{"KSTAGE_API_DIRECT_URL", s.APIServerURL},
		{"KSTAGE_CLUSTER_CA", s.ClusterCAFile},
		{"KSTAGE_FAULT_URL", "http://" + s.ControlAddr},
		{"KSTAGE_ARTIFACT_URL", "https://" + s.ArtifactAddr},
		{"KSTAGE_ARTIFACT_CA", s.ArtifactCAFile},
		{"KSTAGE_OCI_HOST", s.OCIAddr},
		{"KSTAGE_GIT_URL", "https://" + s.GitAddr + "/kstage-bundle.git"},
		{"KSTAGE_GIT_HTTP_URL", "http://" + s.GitHTTPAddr + "/kstage-bundle.git"},
		{"KSTAGE_GIT_COMMIT", s.GitCommit},
		{"KSTAGE_DATAPLANE_ADDR", s.DataplaneAddr},
		{"KSTAGE_NODE_NAME", s.NodeName},
		{"KSTAGE_FIXTURES", s.Fixtures},
		{"KSTAGE_KSERVE_CONTROLLER", s.kserveController()},
	}
	var b strings.Builder
	for _, p := range kv {
		fmt.Fprintf(&b, "%s=%s\n", p[0], p[1])
	}
	return b.String()
}
