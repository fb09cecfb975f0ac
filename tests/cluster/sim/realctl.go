package sim

// A real controller binary run for the pods of its Deployment, the way a
// kubelet runs a container: one process per pod, with the pod's
// ServiceAccount token, its container's args and env, webhook serving
// certificates where the manifest mounts them, restarted with back-off when it
// exits (10 s doubling to 5 min, as the kubelet's CrashLoopBackOff), in its own
// mount and UTS namespaces (unshare: the ServiceAccount volume at
// /run/secrets, the pod's name as hostname), and its
// state written to the pod's status (Ready from the readiness probe, the last
// exit as lastState.terminated with the end of the log as its message).

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// RealController says which pods run a real binary and how.
type RealController struct {
	Name string // for logs and files: "kserve"
	// Bin names the binary for the container's image (an error when none is
	// built for it: the pod shows it as a StartError and is retried).
	Bin       func(image string) (string, error)
	Container string                   // the pod's container the binary stands for
	Match     func(p *corev1.Pod) bool // the controller's pods
	// Flags replaces or adds flags so the process fits on a shared loopback:
	// name -> value ("" drops the flag); %PROBE% and %WEBHOOK% are free ports.
	Flags map[string]string
	// CertDir is where the manifest mounts the webhook serving certificate
	// (controller-runtime's default under TMPDIR); files are generated there.
	CertDir string
	Dir     string // state directory of the cluster
	APIURL  string // the API server, straight (controllers do not go through the fault proxy)
	CAFile  string
	// Volumes mounts the container's ConfigMap and Secret volumes at their
	// mountPath; while one is missing the pod waits in ContainerCreating,
	// as a kubelet leaves it.
	Volumes bool
	// Bridge, when set, runs the process in its own network namespace, for
	// binaries whose ports are fixed (Envoy Gateway: xDS 18000, probes 8081):
	// several clusters on one host do not collide. Bridge is this harness's
	// binary; its netns-bridge subcommand, inside the namespace, forwards the
	// API server's port in and the readiness probe's port out over Unix sockets.
	Bridge string
	// Once: the pods are a Job's; the process runs to its end, which ends the pod.
	Once bool

	mu    sync.Mutex
	procs map[types.UID]*realProc
}

type realProc struct {
	pod       string
	cmd       *exec.Cmd
	done      chan struct{}
	started   time.Time
	probe     func() bool // the readiness probe
	logPath   string
	restarts  int32
	lastExit  *corev1.ContainerStateTerminated
	nextStart time.Time
}

// backoff is the kubelet's: 10 s, doubling, at most 5 min.
func backoff(restarts int32) time.Duration {
	d := 10 * time.Second
	for i := int32(1); i < restarts && d < 5*time.Minute; i++ {
		d *= 2
	}
	if d > 5*time.Minute {
		d = 5 * time.Minute
	}
	return d
}

// plan starts, restarts or probes the process of pod p and says its state.
func (rc *RealController) plan(ctx context.Context, s *Sim, p *corev1.Pod) *podPlan {
	if !rc.Match(p) {
		return nil
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.procs == nil {
		rc.procs = map[types.UID]*realProc{}
	}
	pr := rc.procs[p.UID]
	if pr == nil {
		pr = &realProc{pod: p.Namespace + "/" + p.Name}
		rc.procs[p.UID] = pr
	}
	running := pr.cmd != nil
	if running {
		select {
		case <-pr.done:
			running = false
		default:
		}
	}
	if !running && pr.cmd != nil {
		// it exited: record it once
		code := pr.cmd.ProcessState.ExitCode()
		msg := tailLog(pr.logPath, 2048)
		pr.lastExit = &corev1.ContainerStateTerminated{ExitCode: int32(code), Reason: "Error", Message: msg,
			StartedAt: metav1.NewTime(pr.started), FinishedAt: metav1.Now()}
		if code == 0 {
			pr.lastExit.Reason = "Completed"
		}
		pr.cmd = nil
		pr.restarts++
		pr.nextStart = time.Now().Add(backoff(pr.restarts))
		s.Log.Printf("%s: pod %s: exited with %d, restart %d in %s", rc.Name, pr.pod, code, pr.restarts, backoff(pr.restarts))
	}
	if rc.Once && pr.lastExit != nil {
		phase := corev1.PodSucceeded
		if pr.lastExit.ExitCode != 0 {
			phase = corev1.PodFailed
		}
		return &podPlan{phase: phase, terminated: pr.lastExit, container: rc.Container}
	}
	if pr.cmd == nil && !time.Now().Before(pr.nextStart) {
		if err := rc.start(ctx, s, p, pr); errors.Is(err, errVolumeMissing) {
			return &podPlan{phase: corev1.PodPending, waiting: "ContainerCreating", message: err.Error(), container: rc.Container}
		} else if err != nil {
			s.Log.Printf("%s: pod %s: start: %v", rc.Name, pr.pod, err)
			pr.restarts++
			pr.nextStart = time.Now().Add(backoff(pr.restarts))
			pr.lastExit = &corev1.ContainerStateTerminated{ExitCode: 128, Reason: "StartError", Message: err.Error(), FinishedAt: metav1.Now()}
		}
	}
	if pr.cmd == nil {
		return &podPlan{phase: corev1.PodRunning, waiting: "CrashLoopBackOff",
			message:      fmt.Sprintf("back-off %s restarting failed container=%s pod=%s", backoff(pr.restarts), rc.Container, p.Name),
			restartCount: pr.restarts, lastTerminated: pr.lastExit, container: rc.Container}
	}
	return &podPlan{phase: corev1.PodRunning, ready: pr.probe(), restartCount: pr.restarts, lastTerminated: pr.lastExit,
		container: rc.Container}
}

// reap stops the processes of pods that are gone.
func (rc *RealController) reap(live map[types.UID]bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for uid, pr := range rc.procs {
		if live[uid] {
			continue
		}
		go pr.stop() // up to the grace period: not in the reconcile loop
		delete(rc.procs, uid)
	}
}

// StopAll stops every process and waits for them (the sim is shutting down).
func (rc *RealController) StopAll() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for uid, pr := range rc.procs {
		pr.stop()
		delete(rc.procs, uid)
	}
}

func (pr *realProc) stop() {
	if pr.cmd == nil {
		return
	}
	_ = pr.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-pr.done:
	case <-time.After(10 * time.Second): // terminationGracePeriodSeconds
		_ = pr.cmd.Process.Kill()
		<-pr.done
	}
}

// probeReady GETs path from addr; dial, when set, reaches addr (a Unix socket).
func probeReady(addr, path string, dial func(ctx context.Context, network, addr string) (net.Conn, error)) bool {
	c := http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}}
	r, err := c.Get("http://" + addr + path)
	if err != nil {
		return false
	}
	r.Body.Close()
	return r.StatusCode == http.StatusOK
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port), nil
}

func (rc *RealController) start(ctx context.Context, s *Sim, p *corev1.Pod, pr *realProc) error {
	var ctr *corev1.Container
	for i := range p.Spec.Containers {
		if p.Spec.Containers[i].Name == rc.Container {
			ctr = &p.Spec.Containers[i]
		}
	}
	if ctr == nil {
		return fmt.Errorf("pod has no container %q", rc.Container)
	}
	bin, err := rc.Bin(ctr.Image)
	if err != nil {
		return err
	}
	work := filepath.Join(rc.Dir, "controllers", rc.Name+"-"+p.Name)
	if err := os.MkdirAll(filepath.Join(work, "tmp"), 0o755); err != nil {
		return err
	}
	// The pod's ServiceAccount token, bound to the pod, as the kubelet projects it.
	sa := p.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	exp := int64(24 * 3600)
	tr, err := s.Kube.CoreV1().ServiceAccounts(p.Namespace).CreateToken(ctx, sa, &authv1.TokenRequest{
		Spec: authv1.TokenRequestSpec{ExpirationSeconds: &exp,
			BoundObjectRef: &authv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: p.Name, UID: p.UID}},
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("token for serviceaccount %s/%s: %w", p.Namespace, sa, err)
	}
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q, certificate-authority: %q}}]
users: [{name: u, user: {token: %q}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: %q}}]
current-context: c
`, rc.APIURL, rc.CAFile, tr.Status.Token, p.Namespace)
	kcPath := filepath.Join(work, "kubeconfig")
	if err := os.WriteFile(kcPath, []byte(kc), 0o600); err != nil {
		return err
	}
	if rc.CertDir != "" {
		if err := writeServingCert(filepath.Join(work, "tmp", rc.CertDir)); err != nil {
			return err
		}
	}
	// The ServiceAccount volume as the kubelet mounts it: client libraries find their
	// namespace (leader election) at /var/run/secrets/kubernetes.io/serviceaccount.
	saDir := filepath.Join(work, "secrets", "kubernetes.io", "serviceaccount")
	if err := os.MkdirAll(saDir, 0o755); err != nil {
		return err
	}
	ca, err := os.ReadFile(rc.CAFile)
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{"token": []byte(tr.Status.Token), "ca.crt": ca, "namespace": []byte(p.Namespace)} {
		if err := os.WriteFile(filepath.Join(saDir, name), data, 0o600); err != nil {
			return err
		}
	}
	mounts := [][2]string{{filepath.Join(work, "secrets"), "/run/secrets"}}
	if rc.Volumes {
		vols, err := mountVolumes(ctx, s, p, ctr, filepath.Join(work, "volumes"))
		if err != nil {
			return err
		}
		mounts = append(mounts, vols...)
	}
	for _, m := range mounts {
		if err := os.MkdirAll(m[1], 0o755); err != nil { // a bind mount needs its mount point
			return err
		}
	}
	probe, err := freePort()
	if err != nil {
		return err
	}
	webhook, err := freePort()
	if err != nil {
		return err
	}
	argv := ctr.Args // command[0] is the image's binary, rc.Bin
	if len(ctr.Command) > 1 {
		argv = append(append([]string{}, ctr.Command[1:]...), ctr.Args...)
	}
	args := rewriteFlags(argv, rc.Flags, strings.NewReplacer("%PROBE%", probe, "%WEBHOOK%", webhook))
	env := []string{"KSTAGE_POD_NAME=" + p.Name, "KUBECONFIG=" + kcPath, "TMPDIR=" + filepath.Join(work, "tmp"), "HOME=" + work, "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	for _, e := range ctr.Env {
		switch {
		case e.ValueFrom == nil:
			env = append(env, e.Name+"="+e.Value)
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
			env = append(env, e.Name+"="+p.Namespace)
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
			env = append(env, e.Name+"="+p.Name)
		}
	}
	pr.probe = func() bool { return probeReady("127.0.0.1:"+probe, "/readyz", nil) }
	if rc.Once {
		pr.probe = func() bool { return false }
	}
	// In its own mount and UTS namespaces: the volumes bind-mounted, and its
	// hostname is the pod's name (leader election's holder identity starts with it).
	ns := []string{"--mount", "--uts", "--propagation", "private"}
	if os.Geteuid() != 0 {
		ns = append([]string{"--user", "--map-root-user"}, ns...)
	}
	var script strings.Builder
	var bridge *hostBridge
	if rc.Bridge != "" {
		ns = append(ns, "--net")
		if bridge, err = rc.openBridge(p); err != nil {
			return err
		}
		g := readinessGet(ctr)
		if g == nil {
			bridge.close()
			return fmt.Errorf("container %s has no httpGet readiness probe to bridge", ctr.Name)
		}
		// the controller starts once the bridge listens (its probe socket is
		// made after its API listener): started at once, a fast controller
		// found nobody on the API address ("connection refused") and exited
		fmt.Fprintf(&script, "ip link set lo up || exit 1\nrm -f %s\n%s netns-bridge --in %s --out %s &\n",
			shellQuote(bridge.probeSock), shellQuote(rc.Bridge),
			shellQuote(bridge.apiAddr+"="+bridge.apiSock), shellQuote(bridge.probeSock+"=127.0.0.1:"+fmt.Sprint(g.Port.IntValue())))
		fmt.Fprintf(&script, "i=0; while [ ! -S %s ]; do i=$((i+1)); [ $i -le 600 ] || exit 1; sleep 0.05; done\n",
			shellQuote(bridge.probeSock))
		sock := bridge.probeSock
		pr.probe = func() bool {
			return probeReady("pod", g.Path, func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", sock)
			})
		}
	}
	for _, m := range mounts {
		fmt.Fprintf(&script, "mount --bind %s %s || exit 1\n", shellQuote(m[0]), shellQuote(m[1]))
	}
	script.WriteString(`hostname "$KSTAGE_POD_NAME" && exec "$@"` + "\n")
	ns = append(ns, "sh", "-c", script.String(), "sh", bin)
	pr.logPath = filepath.Join(rc.Dir, fmt.Sprintf("%s-%s.log", rc.Name, p.Name))
	logf, err := os.OpenFile(pr.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		bridge.close()
		return err
	}
	fmt.Fprintf(logf, "--- start %d of pod %s at %s: %s %s\n", pr.restarts+1, pr.pod, time.Now().UTC().Format(time.RFC3339), bin, strings.Join(args, " "))
	cmd := exec.Command("unshare", append(ns, args...)...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = env, work, logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		bridge.close()
		return err
	}
	pr.cmd, pr.started, pr.done = cmd, time.Now(), make(chan struct{})
	go func(done chan struct{}) {
		_ = cmd.Wait()
		logf.Close()
		bridge.close()
		close(done)
	}(pr.done)
	s.Log.Printf("%s: pod %s: started %s (pid %d)", rc.Name, pr.pod, bin, cmd.Process.Pid)
	return nil
}

func readinessGet(c *corev1.Container) *corev1.HTTPGetAction {
	if c.ReadinessProbe == nil {
		return nil
	}
	return c.ReadinessProbe.HTTPGet
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// errVolumeMissing: a ConfigMap or Secret a volume names does not exist (yet).
var errVolumeMissing = errors.New("MountVolume.SetUp failed")

// mountVolumes writes the ConfigMap and Secret volumes the container mounts
// under dir, one directory each, and gives the (source, mountPath) pairs.
func mountVolumes(ctx context.Context, s *Sim, p *corev1.Pod, ctr *corev1.Container, dir string) ([][2]string, error) {
	var out [][2]string
	for _, vm := range ctr.VolumeMounts {
		var v *corev1.Volume
		for i := range p.Spec.Volumes {
			if p.Spec.Volumes[i].Name == vm.Name {
				v = &p.Spec.Volumes[i]
			}
		}
		if v == nil || vm.SubPath != "" {
			continue
		}
		files := map[string][]byte{}
		var items []corev1.KeyToPath
		switch {
		case v.ConfigMap != nil:
			cm, err := s.Kube.CoreV1().ConfigMaps(p.Namespace).Get(ctx, v.ConfigMap.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) && (v.ConfigMap.Optional == nil || !*v.ConfigMap.Optional) {
				return nil, fmt.Errorf("%w for volume %q : configmap %q not found", errVolumeMissing, vm.Name, v.ConfigMap.Name)
			} else if err != nil && !apierrors.IsNotFound(err) {
				return nil, err
			}
			if cm != nil {
				for k, d := range cm.Data {
					files[k] = []byte(d)
				}
				for k, d := range cm.BinaryData {
					files[k] = d
				}
			}
			items = v.ConfigMap.Items
		case v.Secret != nil:
			sec, err := s.Kube.CoreV1().Secrets(p.Namespace).Get(ctx, v.Secret.SecretName, metav1.GetOptions{})
			if apierrors.IsNotFound(err) && (v.Secret.Optional == nil || !*v.Secret.Optional) {
				return nil, fmt.Errorf("%w for volume %q : secret %q not found", errVolumeMissing, vm.Name, v.Secret.SecretName)
			} else if err != nil && !apierrors.IsNotFound(err) {
				return nil, err
			}
			if sec != nil {
				files = sec.Data
			}
			items = v.Secret.Items
		default:
			continue
		}
		if len(items) > 0 {
			sel := map[string][]byte{}
			for _, it := range items {
				sel[it.Path] = files[it.Key]
			}
			files = sel
		}
		vd := filepath.Join(dir, vm.Name)
		if err := os.RemoveAll(vd); err != nil {
			return nil, err
		}
		for name, data := range files {
			if err := os.MkdirAll(filepath.Dir(filepath.Join(vd, name)), 0o755); err != nil {
				return nil, err
			}
			if err := os.WriteFile(filepath.Join(vd, name), data, 0o644); err != nil {
				return nil, err
			}
		}
		if err := os.MkdirAll(vd, 0o755); err != nil {
			return nil, err
		}
		out = append(out, [2]string{vd, vm.MountPath})
	}
	return out, nil
}

// rewriteFlags applies the overrides to --name=value / --name value / --name flags.
func rewriteFlags(args []string, over map[string]string, r *strings.Replacer) []string {
	var out []string
	seen := map[string]bool{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		name := strings.TrimLeft(a, "-")
		if k := strings.IndexByte(name, '='); k >= 0 {
			name = name[:k]
		}
		v, ok := over[name]
		if !ok || !strings.HasPrefix(a, "-") {
			out = append(out, a)
			continue
		}
		seen[name] = true
		if v != "" {
			out = append(out, "--"+name+"="+r.Replace(v))
		}
	}
	for name, v := range over {
		if !seen[name] && v != "" {
			out = append(out, "--"+name+"="+r.Replace(v))
		}
	}
	return out
}

// startLog gives the log of the process's latest start (what the kubelet
// serves for a container: the lines after the harness's "--- start" header).
func startLog(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	if k := bytes.LastIndex(b, []byte("\n--- start ")); k >= 0 {
		b = b[k+1:]
	} else if !bytes.HasPrefix(b, []byte("--- start ")) {
		return b
	}
	if j := bytes.IndexByte(b, '\n'); j >= 0 {
		return b[j+1:]
	}
	return nil
}

// PodLog is what pods/log answers for container ctr of pod uid when a real
// binary runs it: the log of its latest start.
func (rc *RealController) PodLog(uid types.UID, ctr string) (string, bool) {
	if ctr != rc.Container {
		return "", false
	}
	rc.mu.Lock()
	pr := rc.procs[uid]
	rc.mu.Unlock()
	if pr == nil || pr.logPath == "" {
		return "", false
	}
	return string(startLog(pr.logPath)), true
}

// tailLog gives the last lines of the current start's log, at most n bytes.
func tailLog(path string, n int) string {
	b := startLog(path)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}

// writeServingCert writes a self-signed tls.crt/tls.key for the webhook server
// (nothing calls it: the fixtures carry no webhook configurations).
func writeServingCert(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "webhook"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "tls.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "tls.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
}
