package harness

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"kstage.dev/tests/cluster/pki"
)

// proc is a child started by up.
type proc struct {
	name   string
	pid    int
	exited chan error
}

type upper struct {
	s            *State
	procs        []*proc
	kserveBinDir string // real KServe controller managers by version, or "" (simulated)
	egBinDir     string // real Envoy Gateway binaries by version, or "" (simulated)
	egPreset     string // Envoy Gateway version to install after the preset, or ""
	egChart      string // its chart, a directory or a .tgz (CRDs)
}

func token() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// DefaultFixtures is ../shared/fixtures relative to the repo root, or $KSTAGE_FIXTURES.
func DefaultFixtures(repoRoot string) string {
	if f := os.Getenv("KSTAGE_FIXTURES"); f != "" {
		return f
	}
	return filepath.Clean(filepath.Join(repoRoot, "..", "shared", "fixtures"))
}

// Up starts the cluster and returns when it is ready.
func Up(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	dir := fs.String("dir", "build/test-cluster", "state directory")
	preload := fs.String("preload", os.Getenv("KSTAGE_PRELOAD"), "preset to apply after start (kserve-v0.15.2)")
	fixtures := fs.String("fixtures", "", "fixtures directory (default $KSTAGE_FIXTURES or <repo>/../shared/fixtures)")
	timeout := fs.Duration("timeout", 240*time.Second, "give up after this long")
	kserveBinDir := fs.String("kserve-bin-dir", os.Getenv("KSTAGE_KSERVE_BIN_DIR"),
		"run the real KServe controller manager DIR/kserve-<image tag>/manager for its pods (default: the KServe stand-in)")
	egBinDir := fs.String("envoy-gateway-bin-dir", "",
		"run the real Envoy Gateway DIR/envoy-gateway-<image tag>/envoy-gateway for its pods, whoever installs it (default: simulated)")
	egPreset := fs.String("envoy-gateway", "", "install Envoy Gateway of this version after the preset, as its Helm chart does (needs --envoy-gateway-chart)")
	egChart := fs.String("envoy-gateway-chart", "", "Envoy Gateway's chart, a directory or a packaged .tgz (its own CRDs are applied)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	if running(abs) {
		fmt.Println("test cluster already running in", abs, "(make cluster-down first to restart it)")
		return nil
	}
	if *fixtures == "" {
		// DIR is <repo>/build/test-cluster
		*fixtures = DefaultFixtures(filepath.Dir(filepath.Dir(abs)))
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	start := time.Now()
	u := &upper{egPreset: *egPreset, egChart: *egChart}
	if *kserveBinDir != "" {
		if u.kserveBinDir, err = filepath.Abs(*kserveBinDir); err != nil {
			return err
		}
	}
	if *egBinDir != "" {
		if u.egBinDir, err = filepath.Abs(*egBinDir); err != nil {
			return err
		}
	}
	if err := u.run(ctx, abs, *fixtures, *preload); err != nil {
		u.kill()
		return err
	}
	fmt.Printf("test cluster ready in %.1fs; env: %s\n", time.Since(start).Seconds(), filepath.Join(abs, "env"))
	return nil
}

func (u *upper) run(ctx context.Context, dir, fixtures, preload string) error {
	// Fresh state every time; keep bin/. Stop leftovers of a half-dead earlier cluster first.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if left := stopAll(dir); len(left) > 0 {
		fmt.Println("stopped leftovers of an earlier cluster:", strings.Join(left, " "))
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != "bin" {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
	for _, d := range []string{"pki", "etcd"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return err
		}
	}
	ports, err := freePorts(10)
	if err != nil {
		return err
	}
	a := func(i int) string { return "127.0.0.1:" + strconv.Itoa(ports[i]) }
	s := &State{
		Dir: dir, Fixtures: fixtures, KServeBinDir: u.kserveBinDir, EnvoyGatewayBinDir: u.egBinDir,
		EtcdURL: "http://" + a(0), EtcdPeerURL: "http://" + a(1),
		APIServerURL: "https://" + a(2), ProxyAddr: a(3), ControlAddr: a(4),
		ArtifactAddr: a(5), OCIAddr: a(6), GitAddr: a(7), GitHTTPAddr: a(8), DataplaneAddr: a(9),
		AdminToken: token(), LimitedToken: token(), LimitedNS: "team-a", NodeName: "kstage-node-1",
		ServiceCIDR: "10.96.0.0/16",
	}
	u.s = s
	p := func(n string) string { return filepath.Join(dir, "pki", n) }
	s.ClusterCAFile = p("cluster-ca.crt")
	s.ArtifactCAFile = filepath.Join(dir, "ca.crt")

	// PKI.
	ca, err := pki.NewCA("kstage-test-cluster-ca")
	if err != nil {
		return err
	}
	if err := ca.Write(p("cluster-ca")); err != nil {
		return err
	}
	acA, err := pki.NewCA("kstage-test-artifacts-ca")
	if err != nil {
		return err
	}
	if err := acA.Write(p("artifact-ca")); err != nil {
		return err
	}
	if err := os.WriteFile(s.ArtifactCAFile, acA.CertPEM, 0o644); err != nil {
		return err
	}
	hosts := []string{"127.0.0.1", "localhost", "10.96.0.1", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}
	leaf := []struct {
		base string
		mk   func() (*pki.KeyPair, error)
	}{
		{"apiserver", func() (*pki.KeyPair, error) { return ca.Serving("kube-apiserver", hosts...) }},
		{"proxy", func() (*pki.KeyPair, error) { return ca.Serving("kstage-fault-proxy", hosts...) }},
		{"admin", func() (*pki.KeyPair, error) { return ca.Client("kstage-system-admin", "system:masters") }},
		{"kcm", func() (*pki.KeyPair, error) { return ca.Client("system:kube-controller-manager", "system:masters") }},
		{"cert-user", func() (*pki.KeyPair, error) { return ca.Client("kstage-cert-user", "kstage-cert-users") }},
		{"artifacts", func() (*pki.KeyPair, error) { return acA.Serving("kstage-artifacts", "127.0.0.1", "localhost") }},
	}
	for _, l := range leaf {
		kp, err := l.mk()
		if err != nil {
			return err
		}
		if err := kp.Write(p(l.base)); err != nil {
			return err
		}
	}
	if err := pki.ServiceAccountKey(p("sa.key"), p("sa.pub")); err != nil {
		return err
	}
	tokens := fmt.Sprintf("%s,kstage-admin,kstage-admin,\"system:masters\"\n%s,team-a-user,team-a-user,\"kstage-limited\"\n", s.AdminToken, s.LimitedToken)
	if err := os.WriteFile(p("tokens.csv"), []byte(tokens), 0o600); err != nil {
		return err
	}
	if err := u.writeKubeconfigs(); err != nil {
		return err
	}
	if err := s.Save(); err != nil {
		return err
	}

	// etcd.
	if err := u.spawn(ctx, "etcd", "etcd", "--data-dir", filepath.Join(dir, "etcd"), "--client-url", s.EtcdURL, "--peer-url", s.EtcdPeerURL); err != nil {
		return err
	}
	if err := u.waitHTTP(ctx, "etcd", s.EtcdURL+"/health", nil, 60*time.Second); err != nil {
		return err
	}

	// kube-apiserver.
	if err := u.spawn(ctx, "kube-apiserver", "kube-apiserver",
		"--etcd-servers="+s.EtcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+strconv.Itoa(ports[2]),
		"--tls-cert-file="+p("apiserver.crt"), "--tls-private-key-file="+p("apiserver.key"),
		"--client-ca-file="+p("cluster-ca.crt"),
		"--token-auth-file="+p("tokens.csv"),
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+p("sa.pub"),
		"--service-account-signing-key-file="+p("sa.key"),
		"--service-cluster-ip-range="+s.ServiceCIDR,
		"--allow-privileged=true",
		"--kubelet-preferred-address-types=InternalIP", // pods/log reaches the simulated kubelet on 127.0.0.1
		"--cert-dir="+p("apiserver-certs"),
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		"--v=1",
	); err != nil {
		return err
	}
	adminTLS, err := tlsClientConfig(p("cluster-ca.crt"), p("admin.crt"), p("admin.key"))
	if err != nil {
		return err
	}
	if err := u.waitHTTP(ctx, "kube-apiserver", s.APIServerURL+"/readyz", adminTLS, 150*time.Second); err != nil {
		return err
	}
	cs, err := s.Client("admin-cert")
	if err != nil {
		return err
	}
	if err := bootstrapRBAC(ctx, cs, s); err != nil {
		return fmt.Errorf("bootstrap RBAC: %w", err)
	}

	// kube-controller-manager.
	if err := u.spawn(ctx, "kube-controller-manager", "kube-controller-manager",
		"--kubeconfig="+p("kcm.kubeconfig"),
		"--leader-elect=false",
		"--secure-port=0",
		"--controllers="+strings.Join(kcmControllers, ","),
		"--service-account-private-key-file="+p("sa.key"),
		"--root-ca-file="+p("cluster-ca.crt"),
		"--use-service-account-credentials=false",
		"--kube-api-qps=200", "--kube-api-burst=400",
		"--v=1",
	); err != nil {
		return err
	}

	// Simulated parts.
	if err := u.spawn(ctx, "sim", "sim", "--dir", dir); err != nil {
		return err
	}
	if err := u.waitFile(ctx, "sim", filepath.Join(dir, "sim.ready"), 90*time.Second); err != nil {
		return err
	}
	commit, _ := os.ReadFile(filepath.Join(dir, "sim.ready"))
	s.GitCommit = strings.TrimSpace(string(commit))
	if err := s.Save(); err != nil {
		return err
	}
	if err := u.waitHTTP(ctx, "sim", "http://"+s.ControlAddr+"/healthz", nil, 10*time.Second); err != nil {
		return err
	}

	// KCM is working once it has made the default ServiceAccount.
	if err := u.poll(ctx, "kube-controller-manager", 90*time.Second, func() error {
		_, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err
	}); err != nil {
		return err
	}
	if err := u.poll(ctx, "sim", 60*time.Second, func() error {
		n, err := cs.CoreV1().Nodes().Get(ctx, s.NodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				return nil
			}
		}
		return errors.New("node not Ready")
	}); err != nil {
		return err
	}
	if preload != "" {
		fmt.Println("preloading", preload)
		if err := Preload(ctx, s, preload); err != nil {
			return fmt.Errorf("preload %s: %w", preload, err)
		}
	}
	if u.egPreset != "" {
		fmt.Println("installing Envoy Gateway", u.egPreset)
		if err := PreloadEnvoyGateway(ctx, s, u.egPreset, u.egChart); err != nil {
			return fmt.Errorf("envoy gateway %s: %w", u.egPreset, err)
		}
	}
	return os.WriteFile(filepath.Join(dir, "env"), []byte(s.EnvLines()), 0o644)
}

var kcmControllers = []string{
	"namespace-controller", "garbage-collector-controller", "deployment-controller", "replicaset-controller",
	"statefulset-controller", "daemonset-controller", "job-controller", "cronjob-controller",
	"serviceaccount-controller", "serviceaccount-token-controller", "root-ca-certificate-publisher-controller",
	"clusterrole-aggregation-controller", "endpoints-controller", "endpointslice-controller",
	"disruption-controller", "ttl-after-finished-controller", "pod-garbage-collector-controller",
	"resourcequota-controller",
}

func bootstrapRBAC(ctx context.Context, cs kubernetes.Interface, s *State) error {
	var err error
	for i := 0; i < 50; i++ { // the RBAC bootstrap roles may still be being created
		err = func() error {
			_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: s.LimitedNS}}, metav1.CreateOptions{})
			if err != nil && !apierrors.IsAlreadyExists(err) {
				return err
			}
			_, err = cs.RbacV1().RoleBindings(s.LimitedNS).Create(ctx, &rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: "team-a-user-admin"},
				RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "admin"},
				Subjects:   []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: "team-a-user"}},
			}, metav1.CreateOptions{})
			if err != nil && !apierrors.IsAlreadyExists(err) {
				return err
			}
			_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: "kstage-cert-user-cluster-admin"},
				RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"},
				Subjects:   []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: "kstage-cert-user"}},
			}, metav1.CreateOptions{})
			if err != nil && !apierrors.IsAlreadyExists(err) {
				return err
			}
			return nil
		}()
		if err == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return err
}

// Client builds a clientset for one of: admin-cert (direct), admin (token, direct), proxy (token, via proxy).
func (s *State) Client(who string) (*kubernetes.Clientset, error) {
	cfg, err := s.RESTConfig(who)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// RESTConfig returns a rest.Config for "admin-cert" (direct, system:masters cert) or "direct" (admin token).
func (s *State) RESTConfig(who string) (*rest.Config, error) {
	p := func(n string) string { return filepath.Join(s.Dir, "pki", n) }
	cfg := &rest.Config{Host: s.APIServerURL, QPS: 200, Burst: 400}
	cfg.TLSClientConfig.CAFile = p("cluster-ca.crt")
	switch who {
	case "admin-cert":
		cfg.TLSClientConfig.CertFile, cfg.TLSClientConfig.KeyFile = p("admin.crt"), p("admin.key")
	case "direct":
		cfg.BearerToken = s.AdminToken
	case "proxy":
		cfg.Host = "https://" + s.ProxyAddr
		cfg.BearerToken = s.AdminToken
	default:
		return nil, fmt.Errorf("unknown identity %q", who)
	}
	return cfg, nil
}

func (u *upper) writeKubeconfigs() error {
	s := u.s
	p := func(n string) string { return filepath.Join(s.Dir, "pki", n) }
	caPEM, err := os.ReadFile(p("cluster-ca.crt"))
	if err != nil {
		return err
	}
	write := func(file, server, ns string, ai *clientcmdapi.AuthInfo) error {
		c := clientcmdapi.NewConfig()
		c.Clusters["kstage"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
		c.AuthInfos["user"] = ai
		c.Contexts["kstage"] = &clientcmdapi.Context{Cluster: "kstage", AuthInfo: "user", Namespace: ns}
		c.CurrentContext = "kstage"
		return clientcmd.WriteToFile(*c, file)
	}
	readPair := func(base string) (*clientcmdapi.AuthInfo, error) {
		c, err := os.ReadFile(p(base + ".crt"))
		if err != nil {
			return nil, err
		}
		k, err := os.ReadFile(p(base + ".key"))
		if err != nil {
			return nil, err
		}
		return &clientcmdapi.AuthInfo{ClientCertificateData: c, ClientKeyData: k}, nil
	}
	proxyURL := "https://" + s.ProxyAddr
	if err := write(filepath.Join(s.Dir, "kubeconfig"), proxyURL, "", &clientcmdapi.AuthInfo{Token: s.AdminToken}); err != nil {
		return err
	}
	if err := write(filepath.Join(s.Dir, "direct.kubeconfig"), s.APIServerURL, "", &clientcmdapi.AuthInfo{Token: s.AdminToken}); err != nil {
		return err
	}
	if err := write(filepath.Join(s.Dir, "limited.kubeconfig"), proxyURL, s.LimitedNS, &clientcmdapi.AuthInfo{Token: s.LimitedToken}); err != nil {
		return err
	}
	cu, err := readPair("cert-user")
	if err != nil {
		return err
	}
	// The client-cert user talks to the API server directly: a TLS-terminating proxy cannot pass a client certificate on.
	if err := write(filepath.Join(s.Dir, "cert.kubeconfig"), s.APIServerURL, "", cu); err != nil {
		return err
	}
	kc, err := readPair("kcm")
	if err != nil {
		return err
	}
	return write(p("kcm.kubeconfig"), s.APIServerURL, "", kc)
}

func tlsClientConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{RootCAs: poolFromPEM(ca)}
	if certFile != "" {
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return cfg, nil
}

// spawn starts `self args...` detached (new session), logging to DIR/<name>.log.
func (u *upper) spawn(ctx context.Context, name string, args ...string) error {
	exe, err := os.Executable()
	if b := os.Getenv("KSTAGE_TESTCLUSTER_BIN"); b != "" {
		exe, err = b, nil // go test runs Up from the test binary
	}
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(u.s.Dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = u.s.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	pr := &proc{name: name, pid: cmd.Process.Pid, exited: make(chan error, 1)}
	go func() { pr.exited <- cmd.Wait() }()
	u.procs = append(u.procs, pr)
	f, err := os.OpenFile(filepath.Join(u.s.Dir, "pids"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "%s %d\n", name, pr.pid)
	return err
}

func (u *upper) find(name string) *proc {
	for _, p := range u.procs {
		if p.name == name {
			return p
		}
	}
	return nil
}

// poll runs f until it succeeds, the named process dies, or the timeout passes.
func (u *upper) poll(ctx context.Context, name string, timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	pr := u.find(name)
	var last error
	for {
		if last = f(); last == nil {
			return nil
		}
		if pr != nil {
			select {
			case err := <-pr.exited:
				return fmt.Errorf("%s exited during startup (%v)\n%s", name, err, u.tail(name))
			default:
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s not ready after %s: %v\n%s", name, timeout, last, u.tail(name))
		}
		time.Sleep(150 * time.Millisecond)
	}
}

func (u *upper) waitHTTP(ctx context.Context, name, url string, tlsCfg *tls.Config, timeout time.Duration) error {
	c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	return u.poll(ctx, name, timeout, func() error {
		resp, err := c.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("%s: %s", url, resp.Status)
		}
		return nil
	})
}

func (u *upper) waitFile(ctx context.Context, name, file string, timeout time.Duration) error {
	return u.poll(ctx, name, timeout, func() error { _, err := os.Stat(file); return err })
}

func (u *upper) tail(name string) string {
	f, err := os.Open(filepath.Join(u.s.Dir, name+".log"))
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 40 {
			lines = lines[1:]
		}
	}
	return "--- last lines of " + filepath.Join(u.s.Dir, name+".log") + " ---\n" + strings.Join(lines, "\n")
}

func (u *upper) kill() {
	if u.s == nil {
		return
	}
	stopAll(u.s.Dir)
}
