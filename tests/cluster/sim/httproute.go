package sim

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

type parentKey struct{ ns, name, section string }

func parentRefs(rt *unstructured.Unstructured) []parentKey {
	refs, _, _ := unstructured.NestedSlice(rt.Object, "spec", "parentRefs")
	var out []parentKey
	for _, r := range refs {
		m, _ := r.(map[string]any)
		if g, _ := m["group"].(string); g != "" && g != "gateway.networking.k8s.io" {
			continue
		}
		if k, _ := m["kind"].(string); k != "" && k != "Gateway" {
			continue
		}
		ns, _ := m["namespace"].(string)
		if ns == "" {
			ns = rt.GetNamespace()
		}
		name, _ := m["name"].(string)
		sec, _ := m["sectionName"].(string)
		out = append(out, parentKey{ns, name, sec})
	}
	return out
}

// attachedRoutes counts, per "ns/gateway/listener", the routes our controller accepted.
func (s *Sim) attachedRoutes(ctx context.Context, gws []unstructured.Unstructured) map[string]int64 {
	out := map[string]int64{}
	routes, err := s.listOrAbsent(ctx, gvrHTTPRoute, "")
	if err != nil {
		return out
	}
	listeners := map[string][]string{}
	for i := range gws {
		ls, _, _ := unstructured.NestedSlice(gws[i].Object, "spec", "listeners")
		for _, l := range ls {
			m, _ := l.(map[string]any)
			n, _ := m["name"].(string)
			listeners[gws[i].GetNamespace()+"/"+gws[i].GetName()] = append(listeners[gws[i].GetNamespace()+"/"+gws[i].GetName()], n)
		}
	}
	for i := range routes {
		parents, _, _ := unstructured.NestedSlice(routes[i].Object, "status", "parents")
		for _, p := range parents {
			pm, _ := p.(map[string]any)
			if pm["controllerName"] != EnvoyController {
				continue
			}
			if !parentAccepted(pm) {
				continue
			}
			ref, _ := pm["parentRef"].(map[string]any)
			ns, _ := ref["namespace"].(string)
			if ns == "" {
				ns = routes[i].GetNamespace()
			}
			name, _ := ref["name"].(string)
			sec, _ := ref["sectionName"].(string)
			gw := ns + "/" + name
			if sec != "" {
				out[gw+"/"+sec]++
				continue
			}
			for _, l := range listeners[gw] {
				out[gw+"/"+l]++
			}
		}
	}
	return out
}

// reconcileHTTPRoutes writes parent status for routes on our Gateways and
// rebuilds the data plane's routing table.
func (s *Sim) reconcileHTTPRoutes(ctx context.Context) error {
	routes, err := s.listOrAbsent(ctx, gvrHTTPRoute, "")
	if err != nil {
		return err
	}
	gws, err := s.listOrAbsent(ctx, gvrGateway, "")
	if err != nil {
		return err
	}
	classes, err := s.ourClasses(ctx)
	if err != nil {
		return err
	}
	ours := map[string]*unstructured.Unstructured{}
	for i := range gws {
		if cls, _, _ := unstructured.NestedString(gws[i].Object, "spec", "gatewayClassName"); classes[cls] {
			ours[gws[i].GetNamespace()+"/"+gws[i].GetName()] = &gws[i]
		}
	}
	var table []Route
	for i := range routes {
		rt := &routes[i]
		gen := rt.GetGeneration()
		k := knobsOf(rt.GetAnnotations())
		backendsOK, backendMsg := s.checkBackends(ctx, rt)
		var mine []any
		programmedParent := ""
		for _, pk := range parentRefs(rt) {
			gw := ours[pk.ns+"/"+pk.name]
			if gw == nil {
				continue
			}
			ref := map[string]any{"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": pk.ns, "name": pk.name}
			if pk.section != "" {
				ref["sectionName"] = pk.section
			}
			var acc map[string]any
			switch {
			case k.fail != "":
				acc = cond("Accepted", "False", "UnsupportedValue", k.fail, gen)
			case k.neverReady || s.seen(genKey(rt)) < k.delay:
				acc = cond("Accepted", "False", "Pending", "Waiting for the controller", gen)
			case condStatus(gw, "Accepted") != "True":
				acc = cond("Accepted", "False", "NoMatchingParent", "Parent Gateway is not accepted", gen)
			case pk.section != "" && !hasListener(gw, pk.section):
				acc = cond("Accepted", "False", "NoMatchingParent", fmt.Sprintf("No listener named %s", pk.section), gen)
			default:
				acc = cond("Accepted", "True", "Accepted", "Route is accepted", gen)
			}
			res := cond("ResolvedRefs", "True", "ResolvedRefs", "Resolved all the Object references for the Route", gen)
			if !backendsOK {
				res = cond("ResolvedRefs", "False", "BackendNotFound", backendMsg, gen)
			}
			var old []any
			for _, p := range existingParents(rt) {
				if sameRef(p["parentRef"], ref) {
					old, _ = p["conditions"].([]any)
				}
			}
			mine = append(mine, map[string]any{"parentRef": ref, "controllerName": EnvoyController, "conditions": mergeConds(old, acc, res)})
			if acc["status"] == "True" && condStatus(gw, "Programmed") == "True" {
				programmedParent = pk.ns + "/" + pk.name
			}
		}
		if len(mine) == 0 {
			if gw := s.realEGParent(rt, gws); gw != "" {
				table = append(table, routeFrom(rt, gw))
			}
			continue
		}
		parents := mine
		for _, p := range existingParents(rt) {
			if p["controllerName"] != EnvoyController {
				parents = append(parents, p)
			}
		}
		if err := s.updateStatus(ctx, s.Dyn.Resource(gvrHTTPRoute).Namespace(rt.GetNamespace()), rt, map[string]any{"parents": parents}); err != nil {
			s.Log.Printf("httproute %s/%s: %v", rt.GetNamespace(), rt.GetName(), err)
		}
		if programmedParent != "" {
			table = append(table, routeFrom(rt, programmedParent))
		}
	}
	s.table.SetRoutes(table)
	return nil
}

// parentAccepted says whether a route parent status has Accepted True.
func parentAccepted(p map[string]any) bool {
	conds, _ := p["conditions"].([]any)
	for _, c := range conds {
		if cm, _ := c.(map[string]any); cm["type"] == "Accepted" && cm["status"] == "True" {
			return true
		}
	}
	return false
}

// realEGParent: with the real Envoy Gateway, the data plane serves a route
// that it accepted on a Gateway it programmed ("ns/name"), else "".
func (s *Sim) realEGParent(rt *unstructured.Unstructured, gws []unstructured.Unstructured) string {
	if !s.realEG() {
		return ""
	}
	for _, p := range existingParents(rt) {
		if p["controllerName"] != EnvoyController {
			continue
		}
		accepted := parentAccepted(p)
		ref, _ := p["parentRef"].(map[string]any)
		ns, _ := ref["namespace"].(string)
		if ns == "" {
			ns = rt.GetNamespace()
		}
		name, _ := ref["name"].(string)
		for i := range gws {
			if accepted && gws[i].GetNamespace() == ns && gws[i].GetName() == name && condStatus(&gws[i], "Programmed") == "True" {
				return ns + "/" + name
			}
		}
	}
	return ""
}

func hasListener(gw *unstructured.Unstructured, name string) bool {
	ls, _, _ := unstructured.NestedSlice(gw.Object, "spec", "listeners")
	for _, l := range ls {
		if m, _ := l.(map[string]any); m["name"] == name {
			return true
		}
	}
	return false
}

func existingParents(rt *unstructured.Unstructured) []map[string]any {
	ps, _, _ := unstructured.NestedSlice(rt.Object, "status", "parents")
	var out []map[string]any
	for _, p := range ps {
		if m, ok := p.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func sameRef(a any, b map[string]any) bool {
	am, _ := a.(map[string]any)
	return am["name"] == b["name"] && am["namespace"] == b["namespace"] && am["sectionName"] == b["sectionName"]
}

func (s *Sim) checkBackends(ctx context.Context, rt *unstructured.Unstructured) (bool, string) {
	rules, _, _ := unstructured.NestedSlice(rt.Object, "spec", "rules")
	for _, r := range rules {
		rm, _ := r.(map[string]any)
		brs, _ := rm["backendRefs"].([]any)
		for _, b := range brs {
			bm, _ := b.(map[string]any)
			if k, _ := bm["kind"].(string); k != "" && k != "Service" {
				continue
			}
			ns, _ := bm["namespace"].(string)
			if ns == "" {
				ns = rt.GetNamespace()
			}
			name, _ := bm["name"].(string)
			if _, err := s.Kube.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{}); err != nil {
				return false, fmt.Sprintf("Service %s/%s not found", ns, name)
			}
		}
	}
	return true, ""
}

func routeFrom(rt *unstructured.Unstructured, gw string) Route {
	r := Route{Namespace: rt.GetNamespace(), Name: rt.GetName(), Gateway: gw}
	r.Hostnames, _, _ = unstructured.NestedStringSlice(rt.Object, "spec", "hostnames")
	rules, _, _ := unstructured.NestedSlice(rt.Object, "spec", "rules")
	for _, ru := range rules {
		rm, _ := ru.(map[string]any)
		var backends []Backend
		brs, _ := rm["backendRefs"].([]any)
		for _, b := range brs {
			bm, _ := b.(map[string]any)
			ns, _ := bm["namespace"].(string)
			if ns == "" {
				ns = rt.GetNamespace()
			}
			name, _ := bm["name"].(string)
			port, _ := bm["port"].(int64)
			backends = append(backends, Backend{Namespace: ns, Name: name, Port: port})
		}
		matches, _ := rm["matches"].([]any)
		if len(matches) == 0 {
			r.Rules = append(r.Rules, RouteRule{PathType: "PathPrefix", Path: "/", Backends: backends})
		}
		for _, m := range matches {
			mm, _ := m.(map[string]any)
			pt := nestedStr(mm, "path", "type")
			pv := nestedStr(mm, "path", "value")
			if pt == "" {
				pt = "PathPrefix"
			}
			if pv == "" {
				pv = "/"
			}
			r.Rules = append(r.Rules, RouteRule{PathType: pt, Path: pv, Backends: backends})
		}
	}
	return r
}
