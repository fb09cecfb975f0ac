package harness

import (
	"archive/tar"
	"compress/gzip"
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"kstage.dev/tests/cluster/kube"
	"kstage.dev/tests/cluster/sim"
)

// A preset: the CRDs from <fixtures>/<dir>/crds.yaml, then the objects from
// <fixtures>/<dir>/kserve.yaml or, when objects is set, from that text.
type preset struct {
	dir     string
	objects []byte
}

//go:embed presets/kserve-v0.20.0.yaml
var kserve0200 []byte

//go:embed presets/envoy-gateway-v1.3.3.yaml
var envoyGateway133 []byte

//go:embed presets/envoy-gateway-v1.8.3.yaml
var envoyGateway183 []byte

// EnvoyGatewayPresets are the Envoy Gateway installs PreloadEnvoyGateway knows: version -> objects.
var EnvoyGatewayPresets = map[string][]byte{"v1.3.3": envoyGateway133, "v1.8.3": envoyGateway183}

// Presets known to Preload.
var Presets = map[string]preset{
	"kserve-v0.15.2": {dir: "kserve/v0.15.2"},
	"kserve-v0.20.0": {dir: "kserve/v0.20.0", objects: kserve0200},
}

func presetNames() string {
	names := make([]string, 0, len(Presets))
	for n := range Presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// Preload applies a preset: the CRDs first (waiting for Established), then the objects.
func Preload(ctx context.Context, s *State, name string) error {
	p, ok := Presets[name]
	if !ok {
		return fmt.Errorf("unknown preset %q (known: %s)", name, presetNames())
	}
	cfg, err := s.RESTConfig("admin-cert")
	if err != nil {
		return err
	}
	a, err := kube.NewApplier(cfg)
	if err != nil {
		return err
	}
	a.Namespace = "kserve" // the fixture is `helm template -n kserve` output, installed into kserve
	dir := filepath.Join(s.Fixtures, p.dir)
	if err := applyCRDs(ctx, a, filepath.Join(dir, "crds.yaml")); err != nil {
		return err
	}
	rest := p.objects
	if rest == nil {
		if rest, err = os.ReadFile(filepath.Join(dir, "kserve.yaml")); err != nil {
			return err
		}
	}
	if _, err = a.ApplyYAML(ctx, rest); err != nil {
		return err
	}
	return waitKServeAvailable(ctx, cfg, 300*time.Second)
}

// waitKServeAvailable waits until the preset's controller Deployment is
// Available (a real controller takes a while to become Ready), else says
// what its pods show.
func waitKServeAvailable(ctx context.Context, cfg *rest.Config, timeout time.Duration) error {
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		d, err := kc.AppsV1().Deployments(sim.KServeNamespace).Get(ctx, sim.KServeDeployment, metav1.GetOptions{})
		if err == nil && d.Spec.Replicas != nil && d.Status.ObservedGeneration == d.Generation &&
			d.Status.UpdatedReplicas == *d.Spec.Replicas && d.Status.AvailableReplicas == *d.Spec.Replicas &&
			d.Status.UnavailableReplicas == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			var why string
			if err != nil {
				why = err.Error()
			} else {
				why = fmt.Sprintf("%d of %d replicas available", d.Status.AvailableReplicas, *d.Spec.Replicas)
			}
			pods, _ := kc.CoreV1().Pods(sim.KServeNamespace).List(context.Background(), metav1.ListOptions{LabelSelector: "control-plane=" + sim.KServeDeployment})
			if pods != nil {
				for _, p := range pods.Items {
					for _, cs := range p.Status.ContainerStatuses {
						if cs.State.Waiting != nil {
							why += fmt.Sprintf("; pod %s container %s: %s %s", p.Name, cs.Name, cs.State.Waiting.Reason, cs.State.Waiting.Message)
						}
					}
				}
			}
			return fmt.Errorf("%s/%s not Available: %s", sim.KServeNamespace, sim.KServeDeployment, why)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// applyCRDs applies the CRD files and waits for them to be Established.
func applyCRDs(ctx context.Context, a *kube.Applier, files ...string) error {
	docs, err := readDocs(files)
	if err != nil {
		return err
	}
	return applyCRDDocs(ctx, a, docs)
}

func readDocs(files []string) ([]namedDoc, error) {
	docs := make([]namedDoc, 0, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		docs = append(docs, namedDoc{f, data})
	}
	return docs, nil
}

type namedDoc struct {
	name string
	data []byte
}

// applyCRDDocs applies CRD documents and waits for them to be Established.
func applyCRDDocs(ctx context.Context, a *kube.Applier, docs []namedDoc) error {
	var names []string
	for _, d := range docs {
		objs, err := a.ApplyYAML(ctx, d.data)
		if err != nil {
			return fmt.Errorf("%s: %w", d.name, err)
		}
		for _, o := range objs {
			if o.GetKind() == "CustomResourceDefinition" {
				names = append(names, o.GetName())
			}
		}
	}
	return a.WaitEstablished(ctx, names, 60*time.Second)
}

// egChartCRDs reads Envoy Gateway's own CRDs from its chart: a source
// directory (v1.3.3: crds/generated/*.yaml) or a packaged chart archive
// (v1.8.3: gateway-helm/charts/crds/crds/generated/*.yaml, its crds subchart).
func egChartCRDs(chart string) ([]namedDoc, error) {
	if !strings.HasSuffix(chart, ".tgz") {
		files, err := filepath.Glob(filepath.Join(chart, "crds", "generated", "*.yaml"))
		if err != nil {
			return nil, err
		}
		return readDocs(files)
	}
	f, err := os.Open(chart)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", chart, err)
	}
	tr := tar.NewReader(zr)
	var docs []namedDoc
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", chart, err)
		}
		if ok, _ := path.Match("gateway-helm/charts/crds/crds/generated/*.yaml", h.Name); !ok || h.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", chart, h.Name, err)
		}
		docs = append(docs, namedDoc{chart + ":" + h.Name, data})
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: no gateway-helm/charts/crds/crds/generated/*.yaml", chart)
	}
	return docs, nil
}

// PreloadEnvoyGateway installs Envoy Gateway of a version as `helm install eg
// oci://docker.io/envoyproxy/gateway-helm -n envoy-gateway-system --create-namespace`
// does, on a cluster that has the Gateway API v1.2.1 standard CRDs (the
// fixture; the migration guide's first step): Envoy Gateway's own CRDs from
// its chart (a directory or a packaged .tgz: egChartCRDs), the namespace, then
// the rendered objects (the certgen hook Job among them). Envoy Gateway v1.8
// needs Gateway API v1.5: on these CRDs it exits, as in a real cluster. Not
// the chart's Gateway API CRDs (experimental channel): over those, the shipped
// bundle's server-side apply of the standard ones conflicts on spec.versions
// and the channel annotation.
func PreloadEnvoyGateway(ctx context.Context, s *State, version, chart string) error {
	objs, ok := EnvoyGatewayPresets[version]
	if !ok {
		return fmt.Errorf("no Envoy Gateway preset %q", version)
	}
	if chart == "" {
		return fmt.Errorf("Envoy Gateway %s: no chart for its CRDs", version)
	}
	cfg, err := s.RESTConfig("admin-cert")
	if err != nil {
		return err
	}
	a, err := kube.NewApplier(cfg)
	if err != nil {
		return err
	}
	a.Namespace = "envoy-gateway-system"
	gwapi := filepath.Join(s.Fixtures, "gateway-api", "v1.2.1", "standard-install.yaml")
	data, err := os.ReadFile(gwapi)
	if err != nil {
		return err
	}
	own, err := egChartCRDs(chart)
	if err != nil {
		return err
	}
	if err := applyCRDDocs(ctx, a, append([]namedDoc{{gwapi, data}}, own...)); err != nil {
		return err
	}
	if _, err := a.ApplyYAML(ctx, []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: envoy-gateway-system}\n")); err != nil {
		return err
	}
	_, err = a.ApplyYAML(ctx, objs)
	return err
}

// PreloadCmd is `kstage-testcluster preload --dir DIR NAME`.
func PreloadCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("preload", flag.ContinueOnError)
	dir := fs.String("dir", "build/test-cluster", "state directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: preload --dir DIR PRESET (%s)", presetNames())
	}
	abs, _ := filepath.Abs(*dir)
	s, err := LoadState(abs)
	if err != nil {
		return err
	}
	return Preload(ctx, s, fs.Arg(0))
}
