"""The shipped bundle as the e2e suites fetch it through the test servers:
the mirrors for github.com, docker.io and ghcr.io, and a copy of it pinned
with `kstage fetch --update-lock` (tests/e2e/test_bundle.py and the real
Envoy Gateway suite in tests/e2e/real share them)."""
import pathlib
import shutil

ROOT = pathlib.Path(__file__).resolve().parents[2]
# kstage.lock's pins of the Gateway API release assets. The standard files and
# v1.2.1's experimental one are the fixtures; v1.5.1's experimental one is
# rebuilt from the Go module with the project's release script, a method that
# reproduces both standard assets byte for byte (tests/tools/gwapi_install_yaml.py,
# tests/cluster/README.md).
GWAPI_PINS = {
    ("v1.2.1", "standard"): "97598bf6ab3b33b9b5c5432bdd24de091e4e9c3aa0575ebb0710a2a19cd64d64",
    ("v1.5.1", "standard"): "751002b3b91a87f7ae3bd2517c79a47a8d7ed6702901808a1cf9bd97d284f9b8",
    ("v1.2.1", "experimental"): "d3aa6723a3306770cffb601ee22af3d35da43acfa1ca547fc0d3bce08dad66e7",
    ("v1.5.1", "experimental"): "64ec76609a6ac885e0405dea79ca509c229fa019d342f0857aa8b6bdc8b8ba92",
}


def mirror(cluster):
    return ["--mirror", "https://github.com/=" + cluster.env["KSTAGE_ARTIFACT_URL"] + "/"]


def all_mirrors(cluster):
    """github.com, docker.io and ghcr.io all served by the test servers."""
    oci = "oci://" + cluster.env["KSTAGE_OCI_HOST"] + "/"
    return mirror(cluster) + ["--mirror", "oci://docker.io/=" + oci, "--mirror", "oci://ghcr.io/=" + oci]


def pinned_copy(cluster, name):
    """The shipped bundle copied, then pinned with `kstage fetch --update-lock`
    as a connected machine would (here through the test servers)."""
    d = cluster.tmp / name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir()
    for f in ("kstage.yaml", "kstage.lock"):
        shutil.copy(ROOT / f, d / f)
    for sub in ("templates", "values"):
        shutil.copytree(ROOT / sub, d / sub)
    r = cluster.kstage("fetch", str(d), "--update-lock", *all_mirrors(cluster), timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "left unpinned" not in r.stderr, r.stderr
    lock = (d / "kstage.lock").read_text()
    for stage in ("envoy-gateway-crds", "kserve-helm", "kserve-helm-v0-20"):
        assert 'stage: "%s"' % stage in lock, lock
    # the envoy-gateway stage's chart is envoy-gateway-crds' archive: one entry pins both
    assert lock.count('url: "oci://docker.io/envoyproxy/gateway-helm:v1.8.3"') == 1, lock
    # the Gateway API pins of the shipped lock are what the test server serves, unchanged
    for pin in GWAPI_PINS.values():
        assert 'sha256: "%s"' % pin in lock, lock
    return d
