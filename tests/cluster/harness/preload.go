package harness

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"kstage.dev/tests/cluster/kube"
)

// Presets known to Preload.
var Presets = map[string]string{
	"kserve-v0.15.2": "kserve/v0.15.2",
}

// Preload applies a preset: the CRDs first (waiting for Established), then the objects.
func Preload(ctx context.Context, s *State, name string) error {
	sub, ok := Presets[name]
	if !ok {
		return fmt.Errorf("unknown preset %q (known: kserve-v0.15.2)", name)
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
	dir := filepath.Join(s.Fixtures, sub)
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
	rest, err := os.ReadFile(filepath.Join(dir, "kserve.yaml"))
	if err != nil {
		return err
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
		return fmt.Errorf("usage: preload --dir DIR kserve-v0.15.2")
	}
	abs, _ := filepath.Abs(*dir)
	s, err := LoadState(abs)
	if err != nil {
		return err
	}
	return Preload(ctx, s, fs.Arg(0))
}
