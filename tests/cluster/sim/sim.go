// Package sim holds the simulated controllers of the test cluster: a kubelet
// stand-in (one Node; Pods bound, started and marked Ready), an Envoy
// Gateway stand-in (GatewayClass, Gateway, HTTPRoute status and a
// LoadBalancer Service), a KServe controller stand-in, and the HTTP data
// plane that routes by Host header along HTTPRoutes to a built-in iris model.
//
// Every controller is a level-triggered loop: Reconcile lists what it owns
// and writes status only when it changes. Behaviour knobs are annotations on
// the objects (see Knob* constants and tests/cluster/README.md).
package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// Knobs: annotations read on Pods (and their ReplicaSet/Deployment),
// GatewayClasses, Gateways, HTTPRoutes and InferenceServices.
const (
	KnobDelay      = "kstage.test/delay-seconds" // become ready only this many seconds after first seen (float)
	KnobNeverReady = "kstage.test/never-ready"   // "true": run, but never become ready
	KnobFail       = "kstage.test/fail"          // any value but "" / "false": fail; the value is the message
	KnobLog        = "kstage.test/log"           // Pod: what its containers' logs hold (pods/log, through the kubelet endpoint)
)

// EnvoyController is the controllerName the Gateway stand-in answers for,
// and the one it writes in HTTPRoute status.
const EnvoyController = "gateway.envoyproxy.io/gatewayclass-controller"

// IstioController is Istio's controllerName: the stand-in serves its classes
// the same way, so bundles for Istio can be tested.
const IstioController = "istio.io/gateway-controller"

// served says whether the Gateway stand-in answers for a controllerName
// (not Envoy Gateway's when the real one runs).
func (s *Sim) served(controllerName string) bool {
	return (controllerName == EnvoyController && !s.realEG()) || controllerName == IstioController
}

var (
	gvrGatewayClass = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gatewayclasses"}
	gvrGateway      = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gateways"}
	gvrHTTPRoute    = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}
	gvrISVC         = schema.GroupVersionResource{Group: "serving.kserve.io", Version: "v1beta1", Resource: "inferenceservices"}
	gvrCRD          = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

// Sim is the set of simulated controllers.
type Sim struct {
	Kube          kubernetes.Interface
	Dyn           dynamic.Interface
	NodeName      string
	DataplaneAddr string // host:port of the data plane; host is the LoadBalancer ingress IP
	Log           *log.Logger
	Real          []*RealController // real controller binaries standing in for pods (see realctl.go)
	KubeletPort   int32             // where KubeletLogs is served (the Node's daemonEndpoints)

	mu        sync.Mutex
	firstSeen map[string]time.Time // uid/generation -> when first observed
	podIPs    map[types.UID]string
	nextIP    int
	kserve    map[types.UID]*kserveStart // per controller pod: the start it last made
	table     *RouteTable
	models    map[string]string // "ns/service" -> model name served behind it
}

// New makes a Sim.
func New(kube kubernetes.Interface, dyn dynamic.Interface, node, dataplaneAddr string) *Sim {
	return &Sim{
		Kube: kube, Dyn: dyn, NodeName: node, DataplaneAddr: dataplaneAddr,
		Log:       log.New(os.Stderr, "sim: ", log.LstdFlags|log.Lmicroseconds),
		firstSeen: map[string]time.Time{}, podIPs: map[types.UID]string{},
		kserve: map[types.UID]*kserveStart{}, table: &RouteTable{}, models: map[string]string{},
	}
}

// Table is the data plane's routing table (filled by the HTTPRoute controller).
func (s *Sim) Table() *RouteTable { return s.table }

// Run reconciles every interval until ctx ends.
func (s *Sim) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.Reconcile(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Reconcile runs every controller once.
func (s *Sim) Reconcile(ctx context.Context) {
	steps := []struct {
		name string
		f    func(context.Context) error
	}{
		{"node", s.reconcileNode},
		{"pods", s.reconcilePods},
		{"gatewayclasses", s.reconcileGatewayClasses},
		{"gateways", s.reconcileGateways},
		{"proxy-services", s.reconcileProxyServices},
		{"httproutes", s.reconcileHTTPRoutes},
		{"kserve", s.reconcileKServe},
	}
	for _, st := range steps {
		if err := st.f(ctx); err != nil && ctx.Err() == nil {
			s.Log.Printf("%s: %v", st.name, err)
		}
	}
}

// knobs are the parsed behaviour annotations.
type knobs struct {
	delay      time.Duration
	neverReady bool
	fail       string
}

func knobsOf(annos ...map[string]string) knobs {
	var k knobs
	for _, a := range annos {
		if v := a[KnobDelay]; v != "" && k.delay == 0 {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				k.delay = time.Duration(f * float64(time.Second))
			}
		}
		if v := a[KnobNeverReady]; v == "true" || v == "1" {
			k.neverReady = true
		}
		if v := a[KnobFail]; v != "" && v != "false" && v != "0" && k.fail == "" {
			k.fail = v
			if v == "true" || v == "1" {
				k.fail = "failure injected by " + KnobFail
			}
		}
	}
	return k
}

// seen returns how long ago key was first observed.
func (s *Sim) seen(key string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.firstSeen[key]
	if !ok {
		t = time.Now()
		s.firstSeen[key] = t
	}
	return time.Since(t)
}

func genKey(o metav1.Object) string { return fmt.Sprintf("%s/%d", o.GetUID(), o.GetGeneration()) }

// --- conditions on unstructured objects -----------------------------------

// cond is a metav1.Condition as a map.
func cond(typ, status, reason, msg string, gen int64) map[string]any {
	return map[string]any{"type": typ, "status": status, "reason": reason, "message": msg, "observedGeneration": gen}
}

// mergeConds sets each new condition into old, keeping lastTransitionTime when
// the status did not change, and keeps conditions of other types.
func mergeConds(old []any, news ...map[string]any) []any {
	now := time.Now().UTC().Format(time.RFC3339)
	out := make([]any, 0, len(old)+len(news))
	done := map[string]bool{}
	for _, o := range old {
		om, _ := o.(map[string]any)
		typ, _ := om["type"].(string)
		var nm map[string]any
		for _, n := range news {
			if n["type"] == typ {
				nm = n
			}
		}
		if nm == nil {
			out = append(out, om)
			continue
		}
		c := copyMap(nm)
		if om["status"] == nm["status"] && om["lastTransitionTime"] != nil {
			c["lastTransitionTime"] = om["lastTransitionTime"]
		} else {
			c["lastTransitionTime"] = now
		}
		out = append(out, c)
		done[typ] = true
	}
	for _, n := range news {
		if typ, _ := n["type"].(string); !done[typ] {
			c := copyMap(n)
			c["lastTransitionTime"] = now
			out = append(out, c)
		}
	}
	return out
}

func copyMap(m map[string]any) map[string]any {
	c := make(map[string]any, len(m)+1)
	for k, v := range m {
		c[k] = v
	}
	return c
}

// normalize round-trips through JSON so int/int64/float64 compare equal.
func normalize(v any) any {
	b, _ := json.Marshal(v)
	var out any
	json.Unmarshal(b, &out)
	return out
}

// updateStatus writes status when it differs from the object's current one.
func (s *Sim) updateStatus(ctx context.Context, ri dynamic.ResourceInterface, o *unstructured.Unstructured, status map[string]any) error {
	if reflect.DeepEqual(normalize(o.Object["status"]), normalize(status)) {
		return nil
	}
	c := o.DeepCopy()
	c.Object["status"] = status
	_, err := ri.UpdateStatus(ctx, c, metav1.UpdateOptions{FieldManager: "kstage-sim"})
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return nil // next round
	}
	return err
}

// listOrAbsent lists a resource; a missing CRD gives an empty list.
func (s *Sim) listOrAbsent(ctx context.Context, gvr schema.GroupVersionResource, ns string) ([]unstructured.Unstructured, error) {
	l, err := s.Dyn.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) || strings.Contains(err.Error(), "could not find the requested resource") {
			return nil, nil
		}
		return nil, err
	}
	return l.Items, nil
}

// crdEstablished reports whether the named CRD exists and is Established.
func (s *Sim) crdEstablished(ctx context.Context, name string) bool {
	o, err := s.Dyn.Resource(gvrCRD).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return false
	}
	conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

func condStatus(o *unstructured.Unstructured, typ string) string {
	conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == typ {
			s, _ := m["status"].(string)
			return s
		}
	}
	return ""
}
