// Package kube has small client helpers shared by the harness: applying
// multi-document YAML with server-side apply, and waiting for CRDs.
package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// CRDGVR is customresourcedefinitions.
var CRDGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// Decode splits multi-document YAML into objects, skipping empty documents.
func Decode(r io.Reader) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(r, 64*1024)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
}

// Applier applies objects with server-side apply.
type Applier struct {
	// Namespace is used for namespaced objects without one (like `kubectl apply -n`); "" means "default".
	Namespace string
	Dyn       dynamic.Interface
	mapper    *restmapper.DeferredDiscoveryRESTMapper
}

// NewApplier builds an Applier from a rest config.
func NewApplier(cfg *rest.Config) (*Applier, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Applier{Dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}, nil
}

// Apply server-side-applies each object (force, field manager kstage-testcluster).
func (a *Applier) Apply(ctx context.Context, objs []*unstructured.Unstructured) error {
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			a.mapper.Reset()
			if m, err = a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
				return fmt.Errorf("%s %s: %w", gvk, o.GetName(), err)
			}
		}
		var ri dynamic.ResourceInterface = a.Dyn.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			ns := o.GetNamespace()
			if ns == "" {
				ns = a.Namespace
			}
			if ns == "" {
				ns = "default"
			}
			ri = a.Dyn.Resource(m.Resource).Namespace(ns)
		}
		body, err := json.Marshal(o.Object)
		if err != nil {
			return err
		}
		force := true
		if _, err := ri.Patch(ctx, o.GetName(), types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: "kstage-testcluster", Force: &force}); err != nil {
			return fmt.Errorf("apply %s %s/%s: %w", gvk.Kind, o.GetNamespace(), o.GetName(), err)
		}
	}
	return nil
}

// ApplyYAML decodes and applies.
func (a *Applier) ApplyYAML(ctx context.Context, data []byte) ([]*unstructured.Unstructured, error) {
	objs, err := Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return objs, a.Apply(ctx, objs)
}

// WaitEstablished waits until every named CRD has Established=True, then resets discovery.
func (a *Applier) WaitEstablished(ctx context.Context, names []string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, n := range names {
		for {
			o, err := a.Dyn.Resource(CRDGVR).Get(ctx, n, metav1.GetOptions{})
			if err == nil && CondTrue(o, "Established") {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("CRD %s not Established after %s (%v)", n, timeout, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	a.mapper.Reset()
	return nil
}

// CondTrue reports whether status.conditions has type t with status True.
func CondTrue(o *unstructured.Unstructured, t string) bool {
	conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == t && m["status"] == "True" {
			return true
		}
	}
	return false
}
