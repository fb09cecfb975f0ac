package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// KServe stand-in constants.
const (
	KServeNamespace  = "kserve"
	KServeDeployment = "kserve-controller-manager"
	KServeConfigMap  = "inferenceservice-config"
	HTTPRouteCRD     = "httproutes.gateway.networking.k8s.io"
	kserveRestart    = 10 * time.Second // crash-loop back-off between attempts to start
)

// IngressConfig is the part of the `ingress` key of inferenceservice-config the stand-in uses.
type IngressConfig struct {
	EnableGatewayAPI       bool   `json:"enableGatewayApi"`
	KServeIngressGateway   string `json:"kserveIngressGateway"`
	IngressGateway         string `json:"ingressGateway"`
	IngressDomain          string `json:"ingressDomain"`
	IngressClassName       string `json:"ingressClassName"`
	DomainTemplate         string `json:"domainTemplate"`
	URLScheme              string `json:"urlScheme"`
	DisableIngressCreation bool   `json:"disableIngressCreation"`
}

// KServeConfig is what the controller reads at start.
type KServeConfig struct {
	Ingress               IngressConfig
	DefaultDeploymentMode string
}

// kserveStart is one start of the controller in one pod.
type kserveStart struct {
	at       time.Time
	restarts int32
	err      string
	cfg      *KServeConfig
}

// ParseKServeConfig validates the ConfigMap data the way KServe's controller does at start.
func ParseKServeConfig(data map[string]string, httpRouteCRD bool) (*KServeConfig, error) {
	raw, ok := data["ingress"]
	if !ok {
		return nil, fmt.Errorf("unable to parse ingress config json: key \"ingress\" not found in ConfigMap %s", KServeConfigMap)
	}
	cfg := &KServeConfig{DefaultDeploymentMode: "Serverless"}
	if err := json.Unmarshal([]byte(raw), &cfg.Ingress); err != nil {
		return nil, fmt.Errorf("unable to parse ingress config json: %v", err)
	}
	ic := &cfg.Ingress
	if ic.IngressGateway == "" {
		return nil, fmt.Errorf("invalid ingress config - ingressGateway is required")
	}
	if ic.IngressDomain == "" {
		ic.IngressDomain = "example.com"
	}
	if ic.DomainTemplate == "" {
		ic.DomainTemplate = "{{ .Name }}-{{ .Namespace }}.{{ .IngressDomain }}"
	}
	if ic.URLScheme == "" {
		ic.URLScheme = "http"
	}
	if ic.EnableGatewayAPI {
		if ic.KServeIngressGateway == "" || len(strings.Split(ic.KServeIngressGateway, "/")) != 2 {
			return nil, fmt.Errorf("invalid ingress config - kserveIngressGateway should be in the format <namespace>/<name>, got %q", ic.KServeIngressGateway)
		}
		if !httpRouteCRD {
			return nil, fmt.Errorf("unable to create controller: no matches for kind \"HTTPRoute\" in version \"gateway.networking.k8s.io/v1\"")
		}
	}
	if d, ok := data["deploy"]; ok {
		var dc struct {
			DefaultDeploymentMode string `json:"defaultDeploymentMode"`
		}
		if err := json.Unmarshal([]byte(d), &dc); err != nil {
			return nil, fmt.Errorf("unable to parse deploy config json: %v", err)
		}
		if dc.DefaultDeploymentMode != "" {
			cfg.DefaultDeploymentMode = dc.DefaultDeploymentMode
		}
	}
	return cfg, nil
}

// IsKServeControllerPod matches the pods of kserve/kserve-controller-manager.
func IsKServeControllerPod(p *corev1.Pod) bool { return isKServeControllerPod(p) }

func isKServeControllerPod(p *corev1.Pod) bool {
	return p.Namespace == KServeNamespace && p.Labels["control-plane"] == KServeDeployment
}

// kserveGate decides the state of a kserve-controller-manager pod: the
// controller reads its ConfigMap when its container starts, and crash-loops
// (re-reading it on each restart) while the config is unusable.
func (s *Sim) kserveGate(p *corev1.Pod) *podPlan {
	if !isKServeControllerPod(p) {
		return nil
	}
	s.mu.Lock()
	st := s.kserve[p.UID]
	s.mu.Unlock()
	if st == nil || (st.err != "" && time.Since(st.at) >= kserveRestart) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cfg, err := s.readKServeConfig(ctx)
		cancel()
		n := &kserveStart{at: time.Now(), cfg: cfg}
		if st != nil {
			n.restarts = st.restarts + 1
		}
		if err != nil {
			n.err = err.Error()
			s.Log.Printf("kserve controller pod %s: start failed: %v", p.Name, err)
		} else {
			s.Log.Printf("kserve controller pod %s: started (enableGatewayApi=%v, kserveIngressGateway=%s)", p.Name, cfg.Ingress.EnableGatewayAPI, cfg.Ingress.KServeIngressGateway)
		}
		s.mu.Lock()
		s.kserve[p.UID] = n
		s.mu.Unlock()
		st = n
	}
	if st.err != "" {
		reason := "Error"
		if st.restarts > 0 {
			reason = "CrashLoopBackOff"
		}
		return &podPlan{phase: corev1.PodRunning, waiting: reason, message: st.err, restartCount: st.restarts}
	}
	return &podPlan{phase: corev1.PodRunning, ready: true, restartCount: st.restarts}
}

func (s *Sim) readKServeConfig(ctx context.Context) (*KServeConfig, error) {
	cm, err := s.Kube.CoreV1().ConfigMaps(KServeNamespace).Get(ctx, KServeConfigMap, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("unable to get configmap %s/%s: %v", KServeNamespace, KServeConfigMap, err)
	}
	return ParseKServeConfig(cm.Data, s.crdEstablished(ctx, HTTPRouteCRD))
}

// activeKServe returns the config of a running, ready controller pod, or nil.
func (s *Sim) activeKServe(ctx context.Context) *KServeConfig {
	pods, err := s.Kube.CoreV1().Pods(KServeNamespace).List(ctx, metav1.ListOptions{LabelSelector: "control-plane=" + KServeDeployment})
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	live := map[types.UID]bool{}
	var best *kserveStart
	for i := range pods.Items {
		p := &pods.Items[i]
		live[p.UID] = true
		st := s.kserve[p.UID]
		if p.DeletionTimestamp != nil || st == nil || st.err != "" || podCond(p, corev1.PodReady) != corev1.ConditionTrue {
			continue
		}
		if best == nil || st.at.After(best.at) {
			best = st
		}
	}
	for uid := range s.kserve {
		if !live[uid] {
			delete(s.kserve, uid)
		}
	}
	if best == nil {
		return nil
	}
	return best.cfg
}

func isvcHost(ic IngressConfig, name, ns string) string {
	r := strings.NewReplacer("{{ .Name }}", name, "{{ .Namespace }}", ns, "{{ .IngressDomain }}", ic.IngressDomain,
		"{{.Name}}", name, "{{.Namespace}}", ns, "{{.IngressDomain}}", ic.IngressDomain)
	return r.Replace(ic.DomainTemplate)
}

// reconcileKServe runs the InferenceService controller while a controller pod is up.
func (s *Sim) reconcileKServe(ctx context.Context) error {
	cfg := s.activeKServe(ctx)
	models := map[string]string{}
	defer func() { s.table.SetModels(models) }()
	if s.realKServe() {
		return s.realKServeModels(ctx, models)
	}
	if cfg == nil {
		return nil
	}
	items, err := s.listOrAbsent(ctx, gvrISVC, "")
	if err != nil {
		return err
	}
	for i := range items {
		isvc := &items[i]
		if isvc.GetDeletionTimestamp() != nil {
			continue
		}
		if err := s.reconcileISVC(ctx, cfg, isvc, models); err != nil {
			s.Log.Printf("inferenceservice %s/%s: %v", isvc.GetNamespace(), isvc.GetName(), err)
		}
	}
	return nil
}

func (s *Sim) reconcileISVC(ctx context.Context, cfg *KServeConfig, isvc *unstructured.Unstructured, models map[string]string) error {
	name, ns, gen := isvc.GetName(), isvc.GetNamespace(), isvc.GetGeneration()
	mode := isvc.GetAnnotations()["serving.kserve.io/deploymentMode"]
	if mode == "" {
		mode = cfg.DefaultDeploymentMode
	}
	ri := s.Dyn.Resource(gvrISVC).Namespace(ns)
	st, _ := isvc.Object["status"].(map[string]any)
	old, _ := st["conditions"].([]any)
	if mode != "RawDeployment" && mode != "Standard" {
		return s.updateStatus(ctx, ri, isvc, map[string]any{"observedGeneration": gen, "conditions": mergeConds(old,
			kcond("Ready", "False", "ServerlessModeRejected", "Knative Serving is not installed in this test cluster: only RawDeployment is supported", gen))})
	}
	k := knobsOf(isvc.GetAnnotations())
	t := true
	owner := []metav1.OwnerReference{{APIVersion: "serving.kserve.io/v1beta1", Kind: "InferenceService", Name: name, UID: isvc.GetUID(), Controller: &t, BlockOwnerDeletion: &t}}
	pred := name + "-predictor"
	labels := map[string]string{"serving.kserve.io/inferenceservice": name, "component": "predictor", "app": "isvc." + pred}
	format, _, _ := unstructured.NestedString(isvc.Object, "spec", "predictor", "model", "modelFormat", "name")
	if format == "" {
		format = "sklearn"
	}
	// Predictor Deployment and Service; the simulated kubelet runs its pods.
	one := int32(1)
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: pred, Namespace: ns, Labels: labels, OwnerReferences: owner},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "isvc." + pred}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "kserve-container", Image: "kserve/" + format + "server:v0.15.2",
					Ports: []corev1.ContainerPort{{ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
				}}},
			},
		},
	}
	for _, kk := range []string{KnobDelay, KnobNeverReady} { // predictor-level knobs pass through to the pods
		if v := isvc.GetAnnotations()["predictor."+kk]; v != "" {
			dep.Spec.Template.Annotations[kk] = v
		}
	}
	if _, err := s.Kube.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: pred, Namespace: ns, Labels: labels, OwnerReferences: owner},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "isvc." + pred},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP}}},
	}
	if _, err := s.Kube.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	ic := cfg.Ingress
	host := isvcHost(ic, name, ns)
	predHost := isvcHost(ic, pred, ns)
	ingressReady, ingressMsg := true, ""
	if !ic.DisableIngressCreation {
		if ic.EnableGatewayAPI {
			gwNS, gwName, _ := strings.Cut(ic.KServeIngressGateway, "/")
			for _, r := range []struct{ name, host string }{{pred, predHost}, {name, host}} {
				ok, msg, err := s.ensureRoute(ctx, ns, r.name, r.host, pred, gwNS, gwName, labels, owner)
				if err != nil {
					return err
				}
				if !ok {
					ingressReady, ingressMsg = false, msg
				}
			}
		} else if err := s.ensureIngress(ctx, ns, name, host, pred, ic.IngressClassName, labels, owner); err != nil {
			return err
		}
	}
	predReady, predMsg := false, "Predictor Deployment is not available"
	if d, err := s.Kube.AppsV1().Deployments(ns).Get(ctx, pred, metav1.GetOptions{}); err == nil {
		for _, c := range d.Status.Conditions {
			if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue && d.Status.ReadyReplicas > 0 {
				predReady, predMsg = true, ""
			}
		}
	}
	b := func(v bool) string {
		if v {
			return "True"
		}
		return "False"
	}
	predC := kcond("PredictorReady", b(predReady), reasonIf(predReady, "", "PredictorNotReady"), predMsg, gen)
	ingC := kcond("IngressReady", b(ingressReady), reasonIf(ingressReady, "", "IngressNotReady"), ingressMsg, gen)
	ready := predReady && ingressReady
	readyC := kcond("Ready", b(ready), reasonIf(ready, "", "NotReady"), strings.TrimSpace(predMsg+" "+ingressMsg), gen)
	switch {
	case k.fail != "":
		readyC = kcond("Ready", "False", "InternalError", k.fail, gen)
		ready = false
	case k.neverReady || s.seen(genKey(isvc)) < k.delay:
		readyC = kcond("Ready", "False", "NotReady", "Waiting for the InferenceService to become ready", gen)
		ready = false
	}
	status := copyMap(st)
	status["observedGeneration"] = gen
	status["conditions"] = mergeConds(old, predC, ingC, readyC)
	status["deploymentMode"] = "RawDeployment"
	if ready {
		status["url"] = ic.URLScheme + "://" + host
		status["address"] = map[string]any{"url": "http://" + pred + "." + ns + ".svc.cluster.local"}
		status["components"] = map[string]any{"predictor": map[string]any{"url": ic.URLScheme + "://" + predHost}}
		status["modelStatus"] = map[string]any{"states": map[string]any{"activeModelState": "Loaded", "targetModelState": "Loaded"}, "transitionStatus": "UpToDate"}
	} else {
		delete(status, "url")
		status["modelStatus"] = map[string]any{"states": map[string]any{"activeModelState": "Pending", "targetModelState": "Loaded"}, "transitionStatus": "InProgress"}
	}
	if predReady && k.fail == "" {
		models[ns+"/"+pred] = name
	}
	return s.updateStatus(ctx, ri, isvc, status)
}

// kcond is a knative-style condition (KServe's): no observedGeneration; an empty reason is left out.
func kcond(typ, status, reason, msg string, _ int64) map[string]any {
	c := map[string]any{"type": typ, "status": status}
	if reason != "" {
		c["reason"] = reason
	}
	if msg != "" {
		c["message"] = msg
	}
	return c
}

func reasonIf(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
}

// ensureRoute creates or updates an HTTPRoute like KServe's raw-mode Gateway API support,
// and reports whether the Gateway accepted it.
func (s *Sim) ensureRoute(ctx context.Context, ns, name, host, backend, gwNS, gwName string, labels map[string]string, owner []metav1.OwnerReference) (bool, string, error) {
	ownerAny := []any{}
	for _, o := range owner {
		ownerAny = append(ownerAny, map[string]any{"apiVersion": o.APIVersion, "kind": o.Kind, "name": o.Name, "uid": string(o.UID), "controller": true, "blockOwnerDeletion": true})
	}
	lab := map[string]any{}
	for k, v := range labels {
		lab[k] = v
	}
	spec := map[string]any{
		"hostnames":  []any{host},
		"parentRefs": []any{map[string]any{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": gwName, "namespace": gwNS}},
		"rules": []any{map[string]any{
			"matches":     []any{map[string]any{"path": map[string]any{"type": "PathPrefix", "value": "/"}}},
			"backendRefs": []any{map[string]any{"group": "", "kind": "Service", "name": backend, "namespace": ns, "port": int64(80), "weight": int64(1)}},
			"timeouts":    map[string]any{"request": "60s"},
		}},
	}
	ri := s.Dyn.Resource(gvrHTTPRoute).Namespace(ns)
	cur, err := ri.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		o := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
			"metadata": map[string]any{"name": name, "namespace": ns, "labels": lab, "ownerReferences": ownerAny},
			"spec":     spec,
		}}
		_, err = ri.Create(ctx, o, metav1.CreateOptions{FieldManager: "kserve-controller"})
		return false, "HTTPRoute " + name + " created", err
	}
	if err != nil {
		return false, "", err
	}
	gotHosts, _, _ := unstructured.NestedStringSlice(cur.Object, "spec", "hostnames")
	gotParents := parentRefs(cur)
	if len(gotHosts) != 1 || gotHosts[0] != host || len(gotParents) != 1 || gotParents[0].ns != gwNS || gotParents[0].name != gwName {
		c := cur.DeepCopy()
		c.Object["spec"] = spec
		_, err = ri.Update(ctx, c, metav1.UpdateOptions{FieldManager: "kserve-controller"})
		return false, "HTTPRoute " + name + " updated", err
	}
	for _, p := range existingParents(cur) {
		conds, _ := p["conditions"].([]any)
		for _, c := range conds {
			cm, _ := c.(map[string]any)
			if cm["type"] == "Accepted" && cm["status"] == "True" {
				return true, "", nil
			}
		}
	}
	return false, fmt.Sprintf("HTTPRoute %s/%s is not accepted by Gateway %s/%s", ns, name, gwNS, gwName), nil
}

func (s *Sim) ensureIngress(ctx context.Context, ns, name, host, backend, class string, labels map[string]string, owner []metav1.OwnerReference) error {
	pt := networkingv1.PathTypePrefix
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels, OwnerReferences: owner},
		Spec: networkingv1.IngressSpec{
			Rules: []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &pt, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: backend, Port: networkingv1.ServiceBackendPort{Number: 80}}}}},
			}}}},
		},
	}
	if class != "" {
		ing.Spec.IngressClassName = &class
	}
	_, err := s.Kube.NetworkingV1().Ingresses(ns).Create(ctx, ing, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

func (s *Sim) realKServe() bool {
	for _, rc := range s.Real {
		if rc.Name == "kserve" {
			return true
		}
	}
	return false
}

// realKServeModels: with the real controller, the data plane serves each
// InferenceService's model behind the predictor Service KServe creates.
func (s *Sim) realKServeModels(ctx context.Context, models map[string]string) error {
	items, err := s.listOrAbsent(ctx, gvrISVC, "")
	if err != nil {
		return err
	}
	for _, isvc := range items {
		models[isvc.GetNamespace()+"/"+isvc.GetName()+"-predictor"] = isvc.GetName()
	}
	return nil
}
