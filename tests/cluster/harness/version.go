package harness

import "strings"

// VersionLDFlags stamps the Kubernetes version into the binary, as the
// Kubernetes release build does, so /version reports e.g. v1.36.3 rather
// than v0.0.0-master. version is the k8s.io/kubernetes module version.
func VersionLDFlags(version string) string {
	v := strings.TrimPrefix(version, "v")
	parts := strings.SplitN(v, ".", 3)
	major, minor := "1", "0"
	if len(parts) >= 2 {
		major, minor = parts[0], parts[1]
	}
	var b strings.Builder
	for _, pkg := range []string{"k8s.io/component-base/version", "k8s.io/client-go/pkg/version"} {
		b.WriteString(" -X " + pkg + ".gitVersion=" + version)
		b.WriteString(" -X " + pkg + ".gitMajor=" + major)
		b.WriteString(" -X " + pkg + ".gitMinor=" + minor)
		b.WriteString(" -X " + pkg + ".gitTreeState=clean")
	}
	return strings.TrimSpace(b.String())
}
