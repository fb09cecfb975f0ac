package harness

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"kstage.dev/tests/cluster/artifacts"
	"kstage.dev/tests/cluster/faultproxy"
	"kstage.dev/tests/cluster/gitserver"
	"kstage.dev/tests/cluster/oci"
	"kstage.dev/tests/cluster/sim"
)

// OCICharts are pushed to the registry at start: repository:tag -> fixture path (relative to fixtures).
var OCICharts = map[string]string{
	"kserve/charts/kserve:v0.15.2":           "kserve/v0.15.2/kserve-v0.15.2.tgz",
	"kserve/charts/kserve-crd:v0.15.2":       "kserve/v0.15.2/kserve-crd-v0.15.2.tgz",
	"kserve/charts/kserve-resources:v0.20.0": "kserve/v0.20.0/kserve-resources-v0.20.0.tgz",
	"kserve/charts/kserve-crd:v0.20.0":       "kserve/v0.20.0/kserve-crd-v0.20.0.tgz",
	"envoyproxy/gateway-helm:v1.8.3":         "envoy-gateway/v1.8.3/gateway-helm-v1.8.3.tgz",
	// behind oci.WithAuth: token and basic authentication
	"bearer/charts/kserve:v0.15.2": "kserve/v0.15.2/kserve-v0.15.2.tgz",
	"basic/charts/kserve:v0.15.2":  "kserve/v0.15.2/kserve-v0.15.2.tgz",
}

// GitRepo is the name of the fixture repository (served as /<GitRepo>.git).
const GitRepo = "kstage-bundle"

// RunSim runs the fault proxy, the artifact/OCI/git servers, the data plane
// and the simulated controllers until ctx ends.
func RunSim(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	dir := fs.String("dir", "build/test-cluster", "state directory")
	interval := fs.Duration("interval", 250*time.Millisecond, "reconcile interval")
	if err := fs.Parse(args); err != nil {
		return err
	}
	abs, _ := filepath.Abs(*dir)
	s, err := LoadState(abs)
	if err != nil {
		return err
	}
	p := func(n string) string { return filepath.Join(abs, "pki", n) }
	errc := make(chan error, 8)
	serve := func(name, addr string, h http.Handler, cert *tls.Config) {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			errc <- fmt.Errorf("%s: %w", name, err)
			return
		}
		if cert != nil {
			l = tls.NewListener(l, cert)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second}
		go func() {
			<-ctx.Done()
			srv.Close()
		}()
		go func() {
			if err := srv.Serve(l); err != nil && err != http.ErrServerClosed {
				errc <- fmt.Errorf("%s: %w", name, err)
			}
		}()
		fmt.Printf("%s listening on %s\n", name, addr)
	}

	// Fault proxy.
	upTLS, err := tlsClientConfig(p("cluster-ca.crt"), "", "")
	if err != nil {
		return err
	}
	apiURL, _ := url.Parse(s.APIServerURL)
	proxy := faultproxy.New(apiURL, upTLS)
	proxyCert, err := tls.LoadX509KeyPair(p("proxy.crt"), p("proxy.key"))
	if err != nil {
		return err
	}
	serve("fault-proxy", s.ProxyAddr, proxy, faultproxy.ServerTLS(proxyCert))

	// Artifact servers share one certificate from the artifact CA.
	artCert, err := tls.LoadX509KeyPair(p("artifacts.crt"), p("artifacts.key"))
	if err != nil {
		return err
	}
	artTLS := &tls.Config{Certificates: []tls.Certificate{artCert}, MinVersion: tls.VersionTLS12}
	art := artifacts.New(s.Fixtures)
	serve("artifacts", s.ArtifactAddr, art, artTLS)

	reg := oci.New()
	charts := map[string]string{}
	for ref, rel := range OCICharts {
		charts[ref] = filepath.Join(s.Fixtures, rel)
	}
	if err := oci.Preload(reg, charts); err != nil {
		return fmt.Errorf("oci preload: %w", err)
	}
	serve("oci", s.OCIAddr, oci.WithAuth(reg), artTLS)

	gitRoot := filepath.Join(abs, "git")
	if err := os.MkdirAll(gitRoot, 0o755); err != nil {
		return err
	}
	commit, err := gitserver.CreateRepo(gitRoot, GitRepo)
	if err != nil {
		return err
	}
	gh, err := gitserver.Handler(gitRoot)
	if err != nil {
		return err
	}
	serve("git-https", s.GitAddr, gh, artTLS)
	serve("git-http", s.GitHTTPAddr, gh, nil)

	// Controllers and data plane.
	cfg, err := s.RESTConfig("admin-cert")
	if err != nil {
		return err
	}
	cfg.UserAgent = "kstage-sim"
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	sm := sim.New(kc, dc, s.NodeName, s.DataplaneAddr)
	if s.KServeBinDir != "" {
		rc := &sim.RealController{Name: "kserve", Bin: binByTag(s.KServeBinDir, "kserve", "manager", "KServe controller"), Container: "manager", Match: sim.IsKServeControllerPod,
			Flags:   map[string]string{"metrics-addr": "0", "health-probe-addr": "127.0.0.1:%PROBE%", "webhook-port": "%WEBHOOK%"},
			CertDir: "k8s-webhook-server/serving-certs", Dir: abs, APIURL: s.APIServerURL, CAFile: s.ClusterCAFile}
		sm.Real = append(sm.Real, rc)
		defer rc.StopAll()
	}
	if s.EnvoyGatewayBinDir != "" {
		egBin := binByTag(s.EnvoyGatewayBinDir, "envoy-gateway", "envoy-gateway", "Envoy Gateway")
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		// Its ports are fixed (xDS 18000, probes 8081, admin 19000): its own
		// network namespace, bridged to the API server by this binary.
		eg := &sim.RealController{Name: "envoy-gateway", Bin: egBin, Container: "envoy-gateway", Match: sim.IsEnvoyGatewayPod,
			Volumes: true, Bridge: exe, Dir: abs, APIURL: s.APIServerURL, CAFile: s.ClusterCAFile}
		// The chart's certgen hook Job: the same binary's `certgen` makes its xDS certificates.
		certgen := &sim.RealController{Name: "envoy-gateway-certgen", Bin: egBin, Container: "envoy-gateway-certgen",
			Match: sim.IsEnvoyGatewayCertgenPod, Once: true, Dir: abs, APIURL: s.APIServerURL, CAFile: s.ClusterCAFile}
		sm.Real = append(sm.Real, eg, certgen)
		defer eg.StopAll()
		defer certgen.StopAll()
	}
	serve("dataplane", s.DataplaneAddr, sm.Table(), nil)
	// The kubelet endpoint the API server proxies pods/log to (any free
	// port, named in the Node's status; the API server does not verify a
	// kubelet's certificate without --kubelet-certificate-authority).
	kl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("kubelet: %w", err)
	}
	sm.KubeletPort = int32(kl.Addr().(*net.TCPAddr).Port)
	klSrv := &http.Server{Handler: sm.KubeletLogs(), ReadHeaderTimeout: 30 * time.Second}
	go func() {
		<-ctx.Done()
		klSrv.Close()
	}()
	go func() {
		if err := klSrv.Serve(tls.NewListener(kl, artTLS)); err != nil && err != http.ErrServerClosed {
			errc <- fmt.Errorf("kubelet: %w", err)
		}
	}()
	go sm.Run(ctx, *interval)

	// Control endpoint last: up waits for it.
	serve("fault-control", s.ControlAddr, proxy.Control(), nil)
	select {
	case err := <-errc:
		return err
	case <-time.After(200 * time.Millisecond):
	}
	if err := os.WriteFile(filepath.Join(abs, "sim.ready"), []byte(commit+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Println("sim ready; git commit", commit)
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		return err
	}
}

// binByTag finds the real binary for a controller image by its version tag:
// binByTag(dir, "kserve", "manager", ...) runs DIR/kserve-v0.15.2/manager for
// kserve/kserve-controller:v0.15.2, binByTag(dir, "envoy-gateway",
// "envoy-gateway", ...) DIR/envoy-gateway-v1.8.3/envoy-gateway for
// docker.io/envoyproxy/gateway:v1.8.3.
func binByTag(dir, prefix, name, what string) func(image string) (string, error) {
	return func(image string) (string, error) {
		tag := ""
		if k := strings.LastIndexByte(image, ':'); k > strings.LastIndexByte(image, '/') {
			tag = image[k+1:]
		}
		if tag == "" {
			return "", fmt.Errorf("image %q has no version tag: no real %s for it", image, what)
		}
		bin := filepath.Join(dir, prefix+"-"+tag, name)
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("no real %s for image %s: %w (built: `make controllers-build`)", what, image, err)
		}
		return bin, nil
	}
}
