package harness

// These tests start a whole test cluster (real etcd, kube-apiserver and
// kube-controller-manager plus the simulated parts) in a temporary directory,
// on its own free ports, and check each part against the real API server.
// They need no running `make cluster-up` cluster.

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authnv1 "k8s.io/api/authentication/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"kstage.dev/tests/cluster/kube"
	"kstage.dev/tests/cluster/sim"
)

var (
	st      *State
	kc      *kubernetes.Clientset
	dyn     dynamic.Interface
	applier *kube.Applier
)

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster tests:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	tmp, err := os.MkdirTemp("", "kstage-harness-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(tmp)
	if os.Getenv("KSTAGE_TESTCLUSTER_BIN") == "" {
		bin := filepath.Join(tmp, "kstage-testcluster")
		fmt.Println("building", bin)
		ver, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "k8s.io/kubernetes").Output()
		if err != nil {
			return 1, err
		}
		cmd := exec.Command("go", "build", "-ldflags", VersionLDFlags(strings.TrimSpace(string(ver))), "-o", bin, "../cmd/kstage-testcluster")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return 1, err
		}
		os.Setenv("KSTAGE_TESTCLUSTER_BIN", bin)
	}
	dir := filepath.Join(tmp, "cluster")
	// If this test binary dies (e.g. -timeout), the cluster it started stops by itself.
	os.Setenv("KSTAGE_TESTCLUSTER_OWNER_PID", strconv.Itoa(os.Getpid()))
	repo, _ := filepath.Abs("../../..")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	err = Up(ctx, []string{"--dir", dir, "--fixtures", DefaultFixtures(repo)})
	defer stopAll(dir)
	if err != nil {
		return 1, err
	}
	fmt.Printf("cluster up in %.1fs\n", time.Since(start).Seconds())
	if st, err = LoadState(dir); err != nil {
		return 1, err
	}
	cfg, _ := st.RESTConfig("direct")
	kc = kubernetes.NewForConfigOrDie(cfg)
	dyn = dynamic.NewForConfigOrDie(cfg)
	if applier, err = kube.NewApplier(cfg); err != nil {
		return 1, err
	}
	code := m.Run()
	if code != 0 {
		for _, n := range []string{"sim", "kube-controller-manager"} {
			b, _ := os.ReadFile(filepath.Join(dir, n+".log"))
			lines := strings.Split(string(b), "\n")
			if len(lines) > 30 {
				lines = lines[len(lines)-30:]
			}
			fmt.Printf("--- tail of %s.log ---\n%s\n", n, strings.Join(lines, "\n"))
		}
	}
	return code, nil
}

// waitFor polls f until it returns true or the timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, f func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, msg := f()
		if ok {
			return
		}
		last = msg
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s: %s", timeout, what, last)
}

var bg = context.Background()

func namespace(t *testing.T, name string) string {
	t.Helper()
	_, err := kc.CoreV1().Namespaces().Create(bg, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	// The ServiceAccount admission plugin needs the default ServiceAccount, which KCM creates.
	waitFor(t, "default ServiceAccount in "+name, 30*time.Second, func() (bool, string) {
		_, err := kc.CoreV1().ServiceAccounts(name).Get(bg, "default", metav1.GetOptions{})
		return err == nil, fmt.Sprint(err)
	})
	return name
}

func deployment(ns, name string, replicas int32, annotations map[string]string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: annotations},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.invalid/app:1"}}},
			},
		},
	}
}

func available(d *appsv1.Deployment) bool {
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue {
			// like `kubectl rollout status`: all replicas updated, no old ones left, all available
			return d.Status.ObservedGeneration == d.Generation && d.Status.UpdatedReplicas == *d.Spec.Replicas &&
				d.Status.Replicas == *d.Spec.Replicas && d.Status.AvailableReplicas == *d.Spec.Replicas
		}
	}
	return false
}

func waitAvailable(t *testing.T, ns, name string, timeout time.Duration) {
	t.Helper()
	waitFor(t, "deployment "+ns+"/"+name+" available", timeout, func() (bool, string) {
		d, err := kc.AppsV1().Deployments(ns).Get(bg, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return available(d), fmt.Sprintf("%+v", d.Status)
	})
}

func kubeconfigClient(t *testing.T, file string) *kubernetes.Clientset {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(st.Dir, file))
	if err != nil {
		t.Fatal(err)
	}
	return kubernetes.NewForConfigOrDie(cfg)
}

// --- control plane --------------------------------------------------------------

func TestControlPlaneIdentities(t *testing.T) {
	v, err := kc.Discovery().ServerVersion()
	if err != nil || !strings.HasPrefix(v.GitVersion, "v1.36.") {
		t.Fatalf("server version %v %v", v, err)
	}
	// Namespace-limited user: full access in team-a, nothing elsewhere.
	lim := kubeconfigClient(t, "limited.kubeconfig")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}
	if _, err := lim.CoreV1().ConfigMaps("team-a").Create(bg, cm, metav1.CreateOptions{}); err != nil {
		t.Fatalf("limited user in team-a: %v", err)
	}
	if _, err := lim.CoreV1().ConfigMaps("default").List(bg, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("limited user in default: want Forbidden, got %v", err)
	}
	if _, err := lim.CoreV1().Namespaces().List(bg, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("limited user listing namespaces: want Forbidden, got %v", err)
	}
	// Client-certificate user.
	cu := kubeconfigClient(t, "cert.kubeconfig")
	rev, err := cu.AuthenticationV1().SelfSubjectReviews().Create(bg, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || rev.Status.UserInfo.Username != "kstage-cert-user" {
		t.Fatalf("cert user: %v %+v", err, rev)
	}
	if _, err := cu.CoreV1().Namespaces().List(bg, metav1.ListOptions{}); err != nil {
		t.Fatalf("cert user is bound to cluster-admin: %v", err)
	}
	// Admin token through the fault proxy.
	adm := kubeconfigClient(t, "kubeconfig")
	rev, err = adm.AuthenticationV1().SelfSubjectReviews().Create(bg, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || rev.Status.UserInfo.Username != "kstage-admin" {
		t.Fatalf("admin via proxy: %v %+v", err, rev)
	}
	// Service-account tokens are signed and accepted.
	tr, err := kc.CoreV1().ServiceAccounts("default").CreateToken(bg, "default", &authnv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &rest.Config{Host: st.APIServerURL, BearerToken: tr.Status.Token, TLSClientConfig: rest.TLSClientConfig{CAFile: st.ClusterCAFile}}
	sa := kubernetes.NewForConfigOrDie(cfg)
	rev, err = sa.AuthenticationV1().SelfSubjectReviews().Create(bg, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || rev.Status.UserInfo.Username != "system:serviceaccount:default:default" {
		t.Fatalf("service account token: %v %+v", err, rev)
	}
	// KCM publishes the root CA into namespaces.
	waitFor(t, "kube-root-ca.crt", 20*time.Second, func() (bool, string) {
		_, err := kc.CoreV1().ConfigMaps("team-a").Get(bg, "kube-root-ca.crt", metav1.GetOptions{})
		return err == nil, fmt.Sprint(err)
	})
}

func TestEnvFileAndKubeconfigs(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(st.Dir, "env"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, v, _ := strings.Cut(l, "=")
		env[k] = v
	}
	for _, k := range []string{"KSTAGE_FAULT_URL", "KSTAGE_ARTIFACT_URL", "KSTAGE_OCI_HOST", "KSTAGE_GIT_URL", "KSTAGE_GIT_COMMIT", "KSTAGE_DATAPLANE_ADDR", "KSTAGE_API_PROXY_URL", "KSTAGE_API_DIRECT_URL"} {
		if env[k] == "" {
			t.Errorf("env lacks %s", k)
		}
	}
	if len(env["KSTAGE_GIT_COMMIT"]) != 40 {
		t.Errorf("git commit %q", env["KSTAGE_GIT_COMMIT"])
	}
	for _, f := range []string{"kubeconfig", "direct.kubeconfig", "limited.kubeconfig", "cert.kubeconfig", "ca.crt"} {
		if _, err := os.Stat(filepath.Join(st.Dir, f)); err != nil {
			t.Error(err)
		}
	}
}

// --- fault proxy in front of the real API server ----------------------------------

func TestFaultProxyInFront(t *testing.T) {
	ctl := "http://" + st.ControlAddr
	post := func(body string) {
		resp, err := http.Post(ctl+"/rules", "application/json", strings.NewReader(body))
		if err != nil || resp.StatusCode != 201 {
			t.Fatalf("add rule: %v %v", err, resp)
		}
	}
	del := func(p string) {
		req, _ := http.NewRequest("DELETE", ctl+p, nil)
		http.DefaultClient.Do(req)
	}
	defer del("/rules")
	del("/counters")
	cfg, _ := clientcmd.BuildConfigFromFlags("", filepath.Join(st.Dir, "kubeconfig"))
	cfg.QPS, cfg.Burst = 100, 100
	c := kubernetes.NewForConfigOrDie(cfg)
	post(`{"method":"GET","path":"^/api/v1/namespaces/team-a/configmaps$","action":"status","status":500,"times":1}`)
	_, err := c.CoreV1().ConfigMaps("team-a").List(bg, metav1.ListOptions{})
	if !apierrors.IsInternalError(err) {
		t.Fatalf("want injected 500, got %v", err)
	}
	if _, err := c.CoreV1().ConfigMaps("team-a").List(bg, metav1.ListOptions{}); err != nil {
		t.Fatalf("rule fired once only: %v", err)
	}
	// client-go retries a reset GET for ~10 s, so reset a POST (not retried).
	post(`{"method":"POST","path":"^/api/v1/namespaces/team-a/secrets$","action":"reset"}`)
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "reset-me"}}
	if _, err := c.CoreV1().Secrets("team-a").Create(bg, sec, metav1.CreateOptions{}); err == nil || !strings.Contains(err.Error(), "reset") {
		t.Fatalf("want a connection reset, got %v", err)
	}
	// Latency: the request goes through, late.
	post(`{"method":"GET","path":"^/api/v1/namespaces/team-a/serviceaccounts$","action":"latency","latencyMs":500}`)
	start := time.Now()
	if _, err := c.CoreV1().ServiceAccounts("team-a").List(bg, metav1.ListOptions{}); err != nil || time.Since(start) < 500*time.Millisecond {
		t.Fatalf("latency: %v after %v", err, time.Since(start))
	}
	// 429 with Retry-After: client-go waits and retries by itself, so the call succeeds, late.
	post(`{"method":"GET","path":"^/api/v1/namespaces/team-a/services$","action":"status","status":429,"retryAfter":1,"times":1}`)
	start = time.Now()
	if _, err := c.CoreV1().Services("team-a").List(bg, metav1.ListOptions{}); err != nil || time.Since(start) < time.Second {
		t.Fatalf("429: %v after %v", err, time.Since(start))
	}
	resp, err := http.Get(ctl + "/counters")
	if err != nil {
		t.Fatal(err)
	}
	var counters map[string]int
	json.NewDecoder(resp.Body).Decode(&counters)
	if counters["GET /api/v1/namespaces/team-a/configmaps"] != 2 {
		t.Fatalf("counters %v", counters)
	}
	// The direct kubeconfig bypasses the proxy.
	d := kubeconfigClient(t, "direct.kubeconfig")
	if _, err := d.CoreV1().Secrets("team-a").List(bg, metav1.ListOptions{}); err != nil {
		t.Fatalf("direct: %v", err)
	}
}

// --- simulated kubelet ------------------------------------------------------------

func TestDeploymentsBecomeAvailable(t *testing.T) {
	ns := namespace(t, "sim-deploy")
	if _, err := kc.AppsV1().Deployments(ns).Create(bg, deployment(ns, "web", 3, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitAvailable(t, ns, "web", 30*time.Second)
	pods, _ := kc.CoreV1().Pods(ns).List(bg, metav1.ListOptions{LabelSelector: "app=web"})
	if len(pods.Items) != 3 {
		t.Fatalf("%d pods", len(pods.Items))
	}
	for _, p := range pods.Items {
		if p.Spec.NodeName != st.NodeName || p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
			t.Fatalf("pod %s: node %q phase %s ip %q", p.Name, p.Spec.NodeName, p.Status.Phase, p.Status.PodIP)
		}
	}
	// A rolling update replaces pods (old ones are deleted by the simulated kubelet).
	d, _ := kc.AppsV1().Deployments(ns).Get(bg, "web", metav1.GetOptions{})
	d.Spec.Template.Spec.Containers[0].Image = "example.invalid/app:2"
	if _, err := kc.AppsV1().Deployments(ns).Update(bg, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitAvailable(t, ns, "web", 30*time.Second)
	waitFor(t, "old pods gone", 20*time.Second, func() (bool, string) {
		pods, _ := kc.CoreV1().Pods(ns).List(bg, metav1.ListOptions{LabelSelector: "app=web"})
		for _, p := range pods.Items {
			if p.Spec.Containers[0].Image != "example.invalid/app:2" {
				return false, p.Name
			}
		}
		return len(pods.Items) == 3, fmt.Sprint(len(pods.Items))
	})
	// Namespace deletion completes (namespace controller + kubelet deleting pods).
	if err := kc.CoreV1().Namespaces().Delete(bg, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "namespace deleted", 60*time.Second, func() (bool, string) {
		_, err := kc.CoreV1().Namespaces().Get(bg, ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
}

func TestPodKnobs(t *testing.T) {
	ns := namespace(t, "sim-knobs")
	mk := func(name string, ann map[string]string) {
		if _, err := kc.AppsV1().Deployments(ns).Create(bg, deployment(ns, name, 1, ann), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	mk("delayed", map[string]string{sim.KnobDelay: "3"})
	mk("never", map[string]string{sim.KnobNeverReady: "true"})
	mk("crash", map[string]string{sim.KnobFail: "exit code 3: config invalid"})
	waitAvailable(t, ns, "delayed", 30*time.Second)
	if d := time.Since(start); d < 3*time.Second {
		t.Fatalf("delayed deployment available after %v", d)
	}
	for _, name := range []string{"never", "crash"} {
		d, _ := kc.AppsV1().Deployments(ns).Get(bg, name, metav1.GetOptions{})
		if available(d) {
			t.Fatalf("%s must not be available", name)
		}
	}
	pods, _ := kc.CoreV1().Pods(ns).List(bg, metav1.ListOptions{LabelSelector: "app=never"})
	if len(pods.Items) != 1 || pods.Items[0].Status.Phase != corev1.PodRunning || podReady(&pods.Items[0]) {
		t.Fatalf("never-ready pod: %+v", pods.Items)
	}
	waitFor(t, "crash-looping pod", 10*time.Second, func() (bool, string) {
		pods, _ := kc.CoreV1().Pods(ns).List(bg, metav1.ListOptions{LabelSelector: "app=crash"})
		if len(pods.Items) != 1 || len(pods.Items[0].Status.ContainerStatuses) == 0 {
			return false, "no status"
		}
		w := pods.Items[0].Status.ContainerStatuses[0].State.Waiting
		return w != nil && w.Reason == "CrashLoopBackOff" && strings.Contains(w.Message, "config invalid"), fmt.Sprintf("%+v", w)
	})
	// Jobs run to completion; a failing Job fails.
	one := int32(0)
	job := func(name string, ann map[string]string) *batchv1.Job {
		return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: batchv1.JobSpec{BackoffLimit: &one, Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Annotations: ann},
			Spec:       corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "j", Image: "example.invalid/job:1"}}},
		}}}
	}
	kc.BatchV1().Jobs(ns).Create(bg, job("ok", nil), metav1.CreateOptions{})
	kc.BatchV1().Jobs(ns).Create(bg, job("bad", map[string]string{sim.KnobFail: "true"}), metav1.CreateOptions{})
	for name, want := range map[string]batchv1.JobConditionType{"ok": batchv1.JobComplete, "bad": batchv1.JobFailed} {
		waitFor(t, "job "+name, 30*time.Second, func() (bool, string) {
			j, err := kc.BatchV1().Jobs(ns).Get(bg, name, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			for _, c := range j.Status.Conditions {
				if c.Type == want && c.Status == corev1.ConditionTrue {
					return true, ""
				}
			}
			return false, fmt.Sprintf("%+v", j.Status)
		})
	}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// --- Gateway API and KServe, in the order of a migration ---------------------------

var (
	gvrGC    = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gatewayclasses"}
	gvrGW    = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gateways"}
	gvrRoute = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}
	gvrISVC  = schema.GroupVersionResource{Group: "serving.kserve.io", Version: "v1beta1", Resource: "inferenceservices"}
)

func apply(t *testing.T, y string) {
	t.Helper()
	if _, err := applier.ApplyYAML(bg, []byte(y)); err != nil {
		t.Fatal(err)
	}
}

func getU(t *testing.T, gvr schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
	o, err := dyn.Resource(gvr).Namespace(ns).Get(bg, name, metav1.GetOptions{})
	if err != nil {
		return nil
	}
	return o
}

// condOf returns status, reason, observedGeneration of a condition.
func condOf(o *unstructured.Unstructured, typ string) (string, string, int64) {
	if o == nil {
		return "", "", 0
	}
	conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
	for _, c := range conds {
		m := c.(map[string]any)
		if m["type"] == typ {
			g, _ := m["observedGeneration"].(int64)
			return fmt.Sprint(m["status"]), fmt.Sprint(m["reason"]), g
		}
	}
	return "", "", 0
}

func setIngressConfig(t *testing.T, mutate func(m map[string]any)) {
	t.Helper()
	cm, err := kc.CoreV1().ConfigMaps("kserve").Get(bg, "inferenceservice-config", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(cm.Data["ingress"]), &m); err != nil {
		t.Fatal(err)
	}
	mutate(m)
	b, _ := json.Marshal(m)
	cm.Data["ingress"] = string(b)
	if _, err := kc.CoreV1().ConfigMaps("kserve").Update(bg, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func restartKServe(t *testing.T) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":%q}}}}}`, time.Now().Format(time.RFC3339Nano))
	if _, err := kc.AppsV1().Deployments("kserve").Patch(bg, "kserve-controller-manager", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// newestKServePod waits for a pod of the latest ReplicaSet and returns its manager container status.
func kserveManagerWaiting(t *testing.T, substr string) {
	t.Helper()
	waitFor(t, "kserve controller pod failing with "+substr, 30*time.Second, func() (bool, string) {
		pods, _ := kc.CoreV1().Pods("kserve").List(bg, metav1.ListOptions{LabelSelector: "control-plane=kserve-controller-manager"})
		var msgs []string
		for _, p := range pods.Items {
			for _, cs := range p.Status.ContainerStatuses {
				if cs.State.Waiting != nil {
					msgs = append(msgs, cs.State.Waiting.Message)
					if strings.Contains(cs.State.Waiting.Message, substr) {
						return true, ""
					}
				}
			}
		}
		return false, strings.Join(msgs, "; ")
	})
}

func TestGatewayAndKServeMigration(t *testing.T) {
	ctx, cancel := context.WithTimeout(bg, 3*time.Minute)
	defer cancel()
	// 1. "KServe installed, Gateway API not yet."
	if err := Preload(ctx, st, "kserve-v0.15.2"); err != nil {
		t.Fatal(err)
	}
	waitAvailable(t, "kserve", "kserve-controller-manager", 60*time.Second)
	ns := namespace(t, "models")

	// 2. The controller reads its config only when it starts: a config change alone changes nothing.
	setIngressConfig(t, func(m map[string]any) { m["enableGatewayApi"] = true })
	isvc := `apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: %s
  namespace: models
  annotations: {serving.kserve.io/deploymentMode: RawDeployment}
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      storageUri: gs://kfserving-examples/models/sklearn/1.0/model
`
	apply(t, fmt.Sprintf(isvc, "before"))
	waitFor(t, "isvc before Ready via Ingress", 30*time.Second, func() (bool, string) {
		s, r, _ := condOf(getU(t, gvrISVC, ns, "before"), "Ready")
		return s == "True", s + " " + r
	})
	if _, err := kc.NetworkingV1().Ingresses(ns).Get(bg, "before", metav1.GetOptions{}); err != nil {
		t.Fatalf("old config (Ingress) must still be in use: %v", err)
	}

	// 3. Restarting with enableGatewayApi but no HTTPRoute CRD: the new pod crash-loops, the rollout stalls.
	restartKServe(t)
	kserveManagerWaiting(t, `no matches for kind "HTTPRoute"`)
	if d, _ := kc.AppsV1().Deployments("kserve").Get(bg, "kserve-controller-manager", metav1.GetOptions{}); available(d) {
		t.Fatal("rollout must not complete while the new pod crash-loops")
	}

	// 4. Install Gateway API; the crash-looping controller picks it up on its next restart.
	std, err := os.ReadFile(filepath.Join(st.Fixtures, "gateway-api/v1.2.1/standard-install.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := applier.ApplyYAML(ctx, std)
	if err != nil {
		t.Fatal(err)
	}
	var crds []string
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" {
			crds = append(crds, o.GetName())
		}
	}
	if err := applier.WaitEstablished(ctx, crds, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	waitAvailable(t, "kserve", "kserve-controller-manager", 40*time.Second)

	// 5. GatewayClass: ours is Accepted, another controller's is left alone.
	apply(t, `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: envoy}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: other}
spec: {controllerName: example.com/other}
`)
	waitFor(t, "GatewayClass Accepted", 10*time.Second, func() (bool, string) {
		s, r, g := condOf(getU(t, gvrGC, "", "envoy"), "Accepted")
		return s == "True" && g == 1, s + r
	})
	if s, r, _ := condOf(getU(t, gvrGC, "", "other"), "Accepted"); s == "True" {
		t.Fatalf("foreign GatewayClass accepted: %s %s", s, r)
	}

	// 6. Gateway with an HTTPS listener whose Secret is missing: Accepted, Programmed=False/Invalid.
	gw := `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: kserve-ingress-gateway, namespace: kserve}
spec:
  gatewayClassName: envoy
  infrastructure: {labels: {serving.kserve.io/gateway: kserve-ingress-gateway}}
  listeners:
  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}
  - name: https
    port: 443
    protocol: HTTPS
    allowedRoutes: {namespaces: {from: All}}
    tls: {mode: Terminate, certificateRefs: [{kind: Secret, name: gw-cert}]}
`
	apply(t, gw)
	waitFor(t, "Gateway Programmed=False Invalid", 10*time.Second, func() (bool, string) {
		o := getU(t, gvrGW, "kserve", "kserve-ingress-gateway")
		as, _, ag := condOf(o, "Accepted")
		ps, pr, pg := condOf(o, "Programmed")
		return as == "True" && ag == 1 && ps == "False" && pr == "Invalid" && pg == 1, ps + " " + pr
	})
	crt, _ := os.ReadFile(filepath.Join(st.Dir, "pki", "proxy.crt"))
	key, _ := os.ReadFile(filepath.Join(st.Dir, "pki", "proxy.key"))
	if _, err := kc.CoreV1().Secrets("kserve").Create(bg, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "gw-cert"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": crt, "tls.key": key}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Gateway Programmed", 10*time.Second, func() (bool, string) {
		ps, pr, _ := condOf(getU(t, gvrGW, "kserve", "kserve-ingress-gateway"), "Programmed")
		return ps == "True", ps + " " + pr
	})
	// A spec change bumps generation; conditions follow with their observedGeneration.
	apply(t, strings.Replace(gw, "port: 80,", "port: 8080,", 1))
	waitFor(t, "observedGeneration 2", 10*time.Second, func() (bool, string) {
		o := getU(t, gvrGW, "kserve", "kserve-ingress-gateway")
		_, _, ag := condOf(o, "Accepted")
		_, _, pg := condOf(o, "Programmed")
		return o.GetGeneration() == 2 && ag == 2 && pg == 2, fmt.Sprint(ag, pg)
	})
	// The Envoy-like LoadBalancer Service points at the data plane.
	waitFor(t, "LoadBalancer Service", 10*time.Second, func() (bool, string) {
		l, _ := kc.CoreV1().Services("kserve").List(bg, metav1.ListOptions{LabelSelector: "serving.kserve.io/gateway=kserve-ingress-gateway"})
		if len(l.Items) != 1 {
			return false, fmt.Sprint(len(l.Items))
		}
		s := l.Items[0]
		host := strings.Split(st.DataplaneAddr, ":")[0]
		return s.Spec.Type == corev1.ServiceTypeLoadBalancer && len(s.Status.LoadBalancer.Ingress) == 1 && s.Status.LoadBalancer.Ingress[0].IP == host, fmt.Sprintf("%+v", s.Status)
	})

	// 7. A RawDeployment InferenceService after the restart gets HTTPRoutes, Ready and a URL, and answers inference.
	restartKServe(t)
	waitAvailable(t, "kserve", "kserve-controller-manager", 40*time.Second)
	apply(t, fmt.Sprintf(isvc, "iris"))
	waitFor(t, "isvc iris Ready", 40*time.Second, func() (bool, string) {
		o := getU(t, gvrISVC, ns, "iris")
		s, r, _ := condOf(o, "Ready")
		u, _, _ := unstructured.NestedString(o.Object, "status", "url")
		return s == "True" && u == "http://iris-models.example.com", s + " " + r + " " + u
	})
	for _, name := range []string{"iris", "iris-predictor"} {
		rt := getU(t, gvrRoute, ns, name)
		if rt == nil {
			t.Fatalf("HTTPRoute %s missing", name)
		}
		refs, _, _ := unstructured.NestedSlice(rt.Object, "spec", "parentRefs")
		ref := refs[0].(map[string]any)
		if ref["name"] != "kserve-ingress-gateway" || ref["namespace"] != "kserve" {
			t.Fatalf("parentRef %v", ref)
		}
	}
	body := `{"inputs":[{"name":"input-0","shape":[2,4],"datatype":"FP32","data":[[6.8,2.8,4.8,1.4],[6.0,3.4,4.5,1.6]]}]}`
	for _, host := range []string{"iris-models.example.com", "iris-predictor-models.example.com"} {
		req, _ := http.NewRequest("POST", "http://"+st.DataplaneAddr+"/v2/models/iris/infer", strings.NewReader(body))
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Outputs []struct{ Data []int }
		}
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(out.Outputs) != 1 || fmt.Sprint(out.Outputs[0].Data) != "[1 1]" {
			t.Fatalf("%s: %s %+v", host, resp.Status, out)
		}
	}
	// Route status reflects the Gateway; attachedRoutes counts them.
	waitFor(t, "attachedRoutes", 10*time.Second, func() (bool, string) {
		ls, _, _ := unstructured.NestedSlice(getU(t, gvrGW, "kserve", "kserve-ingress-gateway").Object, "status", "listeners")
		n, _ := ls[0].(map[string]any)["attachedRoutes"].(int64)
		return n >= 2, fmt.Sprint(n)
	})

	// 8. Knobs on an InferenceService and on a Gateway.
	apply(t, strings.Replace(fmt.Sprintf(isvc, "broken"), "annotations: {", "annotations: {kstage.test/fail: 'model load failed', ", 1))
	waitFor(t, "isvc broken failing", 20*time.Second, func() (bool, string) {
		s, r, _ := condOf(getU(t, gvrISVC, ns, "broken"), "Ready")
		return s == "False" && r == "InternalError", s + r
	})
	apply(t, `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: never, namespace: models, annotations: {kstage.test/never-ready: "true"}}
spec:
  gatewayClassName: envoy
  listeners: [{name: http, port: 80, protocol: HTTP}]
`)
	waitFor(t, "never-ready Gateway pending", 10*time.Second, func() (bool, string) {
		s, r, _ := condOf(getU(t, gvrGW, ns, "never"), "Programmed")
		return s == "False" && r == "Pending", s + r
	})

	// 9. Any HTTPRoute on the Gateway: ResolvedRefs follows the backend Service; the data plane echoes.
	apply(t, `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: echo, namespace: models}
spec:
  parentRefs: [{name: kserve-ingress-gateway, namespace: kserve}]
  hostnames: [echo.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: echo-api, port: 8080}]
`)
	routeCond := func(typ string) (string, string) {
		ps, _, _ := unstructured.NestedSlice(getU(t, gvrRoute, ns, "echo").Object, "status", "parents")
		for _, p := range ps {
			for _, c := range p.(map[string]any)["conditions"].([]any) {
				if cm := c.(map[string]any); cm["type"] == typ {
					return fmt.Sprint(cm["status"]), fmt.Sprint(cm["reason"])
				}
			}
		}
		return "", ""
	}
	waitFor(t, "route ResolvedRefs=False BackendNotFound", 10*time.Second, func() (bool, string) {
		s, r := routeCond("ResolvedRefs")
		return s == "False" && r == "BackendNotFound", s + r
	})
	if _, err := kc.CoreV1().Services(ns).Create(bg, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "echo-api"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 8080}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "route ResolvedRefs=True", 10*time.Second, func() (bool, string) {
		s, r := routeCond("ResolvedRefs")
		a, _ := routeCond("Accepted")
		return s == "True" && a == "True", s + r
	})
	waitFor(t, "data plane routes echo.example.com/api", 10*time.Second, func() (bool, string) {
		req, _ := http.NewRequest("GET", "http://"+st.DataplaneAddr+"/api/items", nil)
		req.Host = "echo.example.com"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode == 200 && m["backend"] == "models/echo-api:8080" && m["route"] == "models/echo", fmt.Sprint(resp.StatusCode, m)
	})
	req, _ := http.NewRequest("GET", "http://"+st.DataplaneAddr+"/other", nil)
	req.Host = "echo.example.com"
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 404 {
		t.Fatalf("unrouted path: %v %v", err, resp)
	}

	// 10. A config without ingressGateway makes the restarted controller fail like KServe.
	setIngressConfig(t, func(m map[string]any) { delete(m, "ingressGateway") })
	restartKServe(t)
	kserveManagerWaiting(t, "ingressGateway is required")
}

// --- artifact servers, as wired by up ------------------------------------------------

func artifactClient(t *testing.T) *http.Client {
	ca, err := os.ReadFile(filepath.Join(st.Dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: poolFromPEM(ca)}}}
}

func TestArtifactServersWired(t *testing.T) {
	c := artifactClient(t)
	resp, err := c.Get("https://" + st.ArtifactAddr + "/kubernetes-sigs/gateway-api/releases/download/v1.2.1/standard-install.yaml")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("artifact server: %v %v", err, resp)
	}
	resp.Body.Close()
	req, _ := http.NewRequest("GET", "https://"+st.OCIAddr+"/v2/kserve/charts/kserve/manifests/v0.15.2", nil)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json")
	resp, err = c.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("OCI: %v %v", err, resp)
	}
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), "application/vnd.cncf.helm.chart.content.v1.tar+gzip") {
		t.Fatalf("manifest %s", b)
	}
	dst := filepath.Join(t.TempDir(), "clone")
	cmd := exec.Command("git", "clone", "-q", "https://"+st.GitAddr+"/"+GitRepo+".git", dst)
	cmd.Env = append(os.Environ(), "GIT_SSL_CAINFO="+filepath.Join(st.Dir, "ca.crt"), "GIT_TERMINAL_PROMPT=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git clone over HTTPS: %v %s", err, out)
	}
	head, _ := exec.Command("git", "-C", dst, "rev-parse", "HEAD").Output()
	if strings.TrimSpace(string(head)) != st.GitCommit {
		t.Fatalf("HEAD %s, env says %s", head, st.GitCommit)
	}
}
