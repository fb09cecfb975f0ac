package sim

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// reconcileGatewayClasses accepts classes whose controllerName is Envoy Gateway's (or Istio's).
func (s *Sim) reconcileGatewayClasses(ctx context.Context) error {
	items, err := s.listOrAbsent(ctx, gvrGatewayClass, "")
	if err != nil {
		return err
	}
	for i := range items {
		gc := &items[i]
		if cn, _, _ := unstructured.NestedString(gc.Object, "spec", "controllerName"); !s.served(cn) {
			continue
		}
		k := knobsOf(gc.GetAnnotations())
		gen := gc.GetGeneration()
		var c map[string]any
		switch {
		case k.fail != "":
			c = cond("Accepted", "False", "InvalidParameters", k.fail, gen)
		case k.neverReady || s.seen(genKey(gc)) < k.delay:
			c = cond("Accepted", "Unknown", "Pending", "Waiting for controller", gen)
		default:
			c = cond("Accepted", "True", "Accepted", "Valid GatewayClass", gen)
		}
		st, _ := gc.Object["status"].(map[string]any)
		old, _ := st["conditions"].([]any)
		ns := copyMap(st)
		ns["conditions"] = mergeConds(old, c)
		if err := s.updateStatus(ctx, s.Dyn.Resource(gvrGatewayClass), gc, ns); err != nil {
			return err
		}
	}
	return nil
}

// ourClasses returns the names of accepted GatewayClasses the stand-in serves.
func (s *Sim) ourClasses(ctx context.Context) (map[string]bool, error) {
	items, err := s.listOrAbsent(ctx, gvrGatewayClass, "")
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for i := range items {
		if cn, _, _ := unstructured.NestedString(items[i].Object, "spec", "controllerName"); s.served(cn) && condStatus(&items[i], "Accepted") == "True" {
			out[items[i].GetName()] = true
		}
	}
	return out, nil
}

// ServiceName is the name of the Envoy-like Service made for a Gateway.
func ServiceName(gwName string) string {
	n := "envoy-" + gwName
	if len(n) > 63 {
		n = n[:63]
	}
	return strings.TrimRight(n, "-")
}

type listenerResult struct {
	name     string
	status   map[string]any
	invalid  string
	protocol string
	port     int64
}

func (s *Sim) checkListener(ctx context.Context, gw *unstructured.Unstructured, l map[string]any, attached int64) listenerResult {
	name, _ := l["name"].(string)
	proto, _ := l["protocol"].(string)
	port, _ := l["port"].(int64)
	gen := gw.GetGeneration()
	r := listenerResult{name: name, protocol: proto, port: port}
	resolved := cond("ResolvedRefs", "True", "ResolvedRefs", "Resolved all references", gen)
	if proto == "HTTPS" || (proto == "TLS" && nestedStr(l, "tls", "mode") != "Passthrough") {
		refs, _, _ := unstructured.NestedSlice(l, "tls", "certificateRefs")
		mode := nestedStr(l, "tls", "mode")
		if len(refs) == 0 && mode != "Passthrough" {
			r.invalid = fmt.Sprintf("Listener %s: HTTPS listener has no certificateRefs", name)
		}
		for _, ref := range refs {
			m, _ := ref.(map[string]any)
			rn, _ := m["name"].(string)
			rns, _ := m["namespace"].(string)
			if rns == "" {
				rns = gw.GetNamespace()
			}
			if kind, _ := m["kind"].(string); kind != "" && kind != "Secret" {
				r.invalid = fmt.Sprintf("Listener %s: unsupported certificateRef kind %s", name, kind)
				break
			}
			sec, err := s.Kube.CoreV1().Secrets(rns).Get(ctx, rn, metav1.GetOptions{})
			if err != nil {
				r.invalid = fmt.Sprintf("Listener %s: Secret %s/%s does not exist.", name, rns, rn)
				break
			}
			if sec.Type != corev1.SecretTypeTLS || len(sec.Data["tls.crt"]) == 0 || len(sec.Data["tls.key"]) == 0 {
				r.invalid = fmt.Sprintf("Listener %s: Secret %s/%s must be of type kubernetes.io/tls with tls.crt and tls.key.", name, rns, rn)
				break
			}
		}
		if r.invalid != "" {
			resolved = cond("ResolvedRefs", "False", "InvalidCertificateRef", r.invalid, gen)
		}
	}
	prog := cond("Programmed", "True", "Programmed", "Sending translated listener configuration to the data plane", gen)
	acc := cond("Accepted", "True", "Accepted", "Listener is valid", gen)
	if r.invalid != "" {
		prog = cond("Programmed", "False", "Invalid", r.invalid, gen)
	}
	kinds := []any{map[string]any{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}, map[string]any{"group": "gateway.networking.k8s.io", "kind": "GRPCRoute"}}
	if proto == "TLS" || proto == "TCP" {
		kinds = []any{map[string]any{"group": "gateway.networking.k8s.io", "kind": proto + "Route"}}
	}
	var old []any
	ls, _, _ := unstructured.NestedSlice(gw.Object, "status", "listeners")
	for _, l := range ls {
		if lm, _ := l.(map[string]any); lm["name"] == name {
			old, _ = lm["conditions"].([]any)
		}
	}
	r.status = map[string]any{"name": name, "supportedKinds": kinds, "attachedRoutes": attached, "conditions": mergeConds(old, acc, prog, resolved)}
	return r
}

func nestedStr(m map[string]any, path ...string) string {
	v, _, _ := unstructured.NestedString(m, path...)
	return v
}

// reconcileGateways sets Accepted/Programmed, listener status and the LoadBalancer Service.
func (s *Sim) reconcileGateways(ctx context.Context) error {
	gws, err := s.listOrAbsent(ctx, gvrGateway, "")
	if err != nil || len(gws) == 0 {
		return err
	}
	classes, err := s.ourClasses(ctx)
	if err != nil {
		return err
	}
	attached := s.attachedRoutes(ctx, gws)
	lbHost, _, _ := net.SplitHostPort(s.DataplaneAddr)
	for i := range gws {
		gw := &gws[i]
		cls, _, _ := unstructured.NestedString(gw.Object, "spec", "gatewayClassName")
		if !classes[cls] {
			continue
		}
		gen := gw.GetGeneration()
		k := knobsOf(gw.GetAnnotations())
		listeners, _, _ := unstructured.NestedSlice(gw.Object, "spec", "listeners")
		var lstatus []any
		var invalid []string
		var ports []corev1.ServicePort
		seenPorts := map[int64]bool{}
		for _, l := range listeners {
			lm, _ := l.(map[string]any)
			name, _ := lm["name"].(string)
			r := s.checkListener(ctx, gw, lm, attached[gw.GetNamespace()+"/"+gw.GetName()+"/"+name])
			lstatus = append(lstatus, r.status)
			if r.invalid != "" {
				invalid = append(invalid, r.invalid)
			}
			if !seenPorts[r.port] && r.port > 0 {
				seenPorts[r.port] = true
				ports = append(ports, corev1.ServicePort{Name: strings.ToLower(r.protocol) + "-" + strconv.FormatInt(r.port, 10), Protocol: corev1.ProtocolTCP, Port: int32(r.port), TargetPort: intstr.FromInt32(int32(10000 + r.port%10000))})
			}
		}
		accepted := cond("Accepted", "True", "Accepted", "The Gateway has been scheduled by Envoy Gateway", gen)
		var programmed map[string]any
		switch {
		case k.fail != "":
			programmed = cond("Programmed", "False", "Invalid", k.fail, gen)
		case len(invalid) > 0:
			programmed = cond("Programmed", "False", "Invalid", strings.Join(invalid, " "), gen)
		case k.neverReady || s.seen(genKey(gw)) < k.delay:
			programmed = cond("Programmed", "False", "Pending", "Waiting for the Envoy proxy to become ready", gen)
		default:
			programmed = cond("Programmed", "True", "Programmed", "Address assigned to the Gateway, 1/1 envoy replicas available", gen)
		}
		if err := s.ensureGatewayService(ctx, gw, ports); err != nil {
			s.Log.Printf("gateway %s/%s service: %v", gw.GetNamespace(), gw.GetName(), err)
			if programmed["status"] == "True" {
				programmed = cond("Programmed", "False", "AddressNotAssigned", err.Error(), gen)
			}
		}
		st, _ := gw.Object["status"].(map[string]any)
		old, _ := st["conditions"].([]any)
		ns := copyMap(st)
		ns["conditions"] = mergeConds(old, accepted, programmed)
		ns["listeners"] = lstatus
		if programmed["status"] == "True" {
			ns["addresses"] = []any{map[string]any{"type": "IPAddress", "value": lbHost}}
		} else {
			delete(ns, "addresses")
		}
		if err := s.updateStatus(ctx, s.Dyn.Resource(gvrGateway).Namespace(gw.GetNamespace()), gw, ns); err != nil {
			return err
		}
	}
	return nil
}

func (s *Sim) ensureGatewayService(ctx context.Context, gw *unstructured.Unstructured, ports []corev1.ServicePort) error {
	if len(ports) == 0 {
		return nil
	}
	labels := map[string]string{
		"serving.kserve.io/gateway":                      gw.GetName(),
		"gateway.envoyproxy.io/owning-gateway-name":      gw.GetName(),
		"gateway.envoyproxy.io/owning-gateway-namespace": gw.GetNamespace(),
		"app.kubernetes.io/managed-by":                   "envoy-gateway",
		"app.kubernetes.io/component":                    "proxy",
	}
	infra, _, _ := unstructured.NestedStringMap(gw.Object, "spec", "infrastructure", "labels")
	for k, v := range infra {
		labels[k] = v
	}
	sort.Slice(ports, func(i, j int) bool { return ports[i].Port < ports[j].Port })
	name := ServiceName(gw.GetName())
	svcs := s.Kube.CoreV1().Services(gw.GetNamespace())
	svc, err := svcs.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		t := true
		svc, err = svcs.Create(ctx, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{
				Name: name, Namespace: gw.GetNamespace(), Labels: labels,
				Annotations:     map[string]string{"kstage.test/dataplane-addr": s.DataplaneAddr},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "gateway.networking.k8s.io/v1", Kind: "Gateway", Name: gw.GetName(), UID: gw.GetUID(), Controller: &t}},
			},
			Spec: corev1.ServiceSpec{
				Type:     corev1.ServiceTypeLoadBalancer,
				Ports:    ports,
				Selector: map[string]string{"gateway.envoyproxy.io/owning-gateway-name": gw.GetName(), "gateway.envoyproxy.io/owning-gateway-namespace": gw.GetNamespace()},
			},
		}, metav1.CreateOptions{})
	}
	if err != nil {
		return err
	}
	changed := false
	for k, v := range labels {
		if svc.Labels[k] != v {
			if svc.Labels == nil {
				svc.Labels = map[string]string{}
			}
			svc.Labels[k] = v
			changed = true
		}
	}
	if !samePorts(svc.Spec.Ports, ports) {
		for i := range ports {
			for _, op := range svc.Spec.Ports {
				if op.Port == ports[i].Port {
					ports[i].NodePort = op.NodePort
				}
			}
		}
		svc.Spec.Ports = ports
		changed = true
	}
	if changed {
		if svc, err = svcs.Update(ctx, svc, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	return s.setLoadBalancer(ctx, svc)
}

// setLoadBalancer gives a LoadBalancer Service the data plane's address as its ingress.
func (s *Sim) setLoadBalancer(ctx context.Context, svc *corev1.Service) error {
	lbHost, lbPort, _ := net.SplitHostPort(s.DataplaneAddr)
	lp, _ := strconv.Atoi(lbPort)
	want := []corev1.LoadBalancerIngress{{IP: lbHost, Ports: []corev1.PortStatus{{Port: int32(lp), Protocol: corev1.ProtocolTCP}}}}
	if len(svc.Status.LoadBalancer.Ingress) != 1 || svc.Status.LoadBalancer.Ingress[0].IP != lbHost ||
		len(svc.Status.LoadBalancer.Ingress[0].Ports) != 1 || svc.Status.LoadBalancer.Ingress[0].Ports[0].Port != int32(lp) {
		c := svc.DeepCopy()
		c.Status.LoadBalancer.Ingress = want
		_, err := s.Kube.CoreV1().Services(svc.Namespace).UpdateStatus(ctx, c, metav1.UpdateOptions{})
		return err
	}
	return nil
}

// reconcileProxyServices: with the real Envoy Gateway, the LoadBalancer
// Services it makes for its proxies get the data plane's address, as a cloud
// load balancer would give them one.
func (s *Sim) reconcileProxyServices(ctx context.Context) error {
	if !s.realEG() {
		return nil
	}
	l, err := s.Kube.CoreV1().Services("").List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=envoy-gateway,app.kubernetes.io/component=proxy"})
	if err != nil {
		return err
	}
	for i := range l.Items {
		if svc := &l.Items[i]; svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
			if err := s.setLoadBalancer(ctx, svc); err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
				return err
			}
		}
	}
	return nil
}

// IsEnvoyGatewayPod says whether p is a pod of Envoy Gateway's controller Deployment (its chart's labels).
func IsEnvoyGatewayPod(p *corev1.Pod) bool {
	return p.Labels["control-plane"] == "envoy-gateway" && hasContainer(p, "envoy-gateway")
}

// IsEnvoyGatewayCertgenPod says whether p is a pod of the chart's certgen Job.
func IsEnvoyGatewayCertgenPod(p *corev1.Pod) bool {
	return isJobPod(p) && hasContainer(p, "envoy-gateway-certgen")
}

func hasContainer(p *corev1.Pod, name string) bool {
	for _, c := range p.Spec.Containers {
		if c.Name == name {
			return true
		}
	}
	return false
}

// realEG says whether the real Envoy Gateway runs (then the stand-in leaves its classes alone).
func (s *Sim) realEG() bool {
	for _, rc := range s.Real {
		if rc.Name == "envoy-gateway" {
			return true
		}
	}
	return false
}

func samePorts(a, b []corev1.ServicePort) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Port != b[i].Port || a[i].Name != b[i].Name {
			return false
		}
	}
	return true
}
