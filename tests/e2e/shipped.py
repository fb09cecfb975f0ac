"""The shipped bundle as the e2e suites fetch it through the test servers:
the mirrors for github.com, docker.io and ghcr.io, and a copy of it pinned
with `kstage fetch --update-lock` (tests/e2e/test_bundle.py and the real
Envoy Gateway suite in tests/e2e/real share them)."""
import pathlib
import shutil

ROOT = pathlib.Path(__file__).resolve().parents[2]


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
    # the Gateway API v1.5.1 experimental file is not on the test server: an optional
    # source that cannot be fetched is left unpinned, and --update-lock says so
    assert ("stage gateway-api-crds-v1-5-experimental: optional source "
            "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.5.1/experimental-install.yaml "
            "left unpinned") in r.stderr, r.stderr
    lock = (d / "kstage.lock").read_text()
    for stage in ("envoy-gateway-crds", "kserve-helm", "kserve-helm-v0-20", "gateway-api-crds-experimental"):
        assert 'stage: "%s"' % stage in lock, lock
    # the envoy-gateway stage's chart is envoy-gateway-crds' archive: one entry pins both
    assert lock.count('url: "oci://docker.io/envoyproxy/gateway-helm:v1.8.3"') == 1, lock
    assert 'stage: "gateway-api-crds-v1-5-experimental"' not in lock
    return d
