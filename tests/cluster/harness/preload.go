package harness

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"kstage.dev/tests/cluster/kube"
)

// A preset: the CRDs from <fixtures>/<dir>/crds.yaml, then the objects from
// <fixtures>/<dir>/kserve.yaml or, when objects is set, from that text.
type preset struct {
	dir     string
	objects []byte
}

//go:embed presets/kserve-v0.20.0.yaml
var kserve0200 []byte

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
	crds, err := os.ReadFile(filepath.Join(dir, "crds.yaml"))
	if err != nil {
		return err
	}
	objs, err := a.ApplyYAML(ctx, crds)
	if err != nil {
		return err
	}
	var names []string
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" {
			names = append(names, o.GetName())
		}
	}
	if err := a.WaitEstablished(ctx, names, 60*time.Second); err != nil {
		return err
	}
	rest := p.objects
	if rest == nil {
		if rest, err = os.ReadFile(filepath.Join(dir, "kserve.yaml")); err != nil {
			return err
		}
	}
	_, err = a.ApplyYAML(ctx, rest)
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
