"""kstage bundle export / import: a bundle with one source of each remote kind
(the Gateway API file over HTTPS through a mirror rule, a chart from the OCI
registry, a chart from the git server at a tag) goes into one .tar.gz, comes
out into a new directory and an empty cache, and applies with every artifact
server unreachable (mirror rules send each to a closed port, and nothing is
fetched because everything is pinned and cached). A tampered artifact in the
archive and the hostile archives of tests/tools are refused on import, with
nothing written; `--bundle-file` runs the archive in place."""
import gzip
import io
import subprocess
import sys
import tarfile
from pathlib import Path

from conftest import GW_SHA

GH = "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.2.1/standard-install.yaml"


def cache(cluster, name):
    return {"XDG_CACHE_HOME": str(cluster.tmp / ("aircache-" + name))}


def test_export_import_apply_with_no_server(cluster):
    host = cluster.env["KSTAGE_OCI_HOST"]
    git = cluster.env["KSTAGE_GIT_URL"].replace("127.0.0.1", "localhost")
    ns = "e2e-airgap"
    cluster.kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=true")
    b = cluster.bundle("air-src", f"""\
        name: air
        stages:
          - name: first
            source: {{path: manifests}}
          - name: gateway-api-crds
            source: {{url: {GH}}}
            rollback: keep
          - name: kserve-crds
            chart: {{ref: oci://{host}/kserve/charts/kserve-crd, version: v0.15.2}}
            rollback: keep
          - name: hello
            chart: {{git: {git}, ref: v0.1.0, path: charts/hello}}
        """, {"manifests/ns.yaml": f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n"})
    mirror = ["--mirror", "https://github.com/=" + cluster.env["KSTAGE_ARTIFACT_URL"] + "/"]
    r = cluster.kstage("fetch", b, "--update-lock", *mirror, env=cache(cluster, "src"))
    assert r.returncode == 0, r.stderr
    out = cluster.tmp / "air.tar.gz"
    r = cluster.kstage("bundle", "export", b, str(out), *mirror, env=cache(cluster, "src"))
    assert r.returncode == 0, r.stderr
    with tarfile.open(out) as t:
        names = set(t.getnames())
    assert {"bundle/kstage.yaml", "bundle/kstage.lock", "bundle/manifests/ns.yaml",
            f"artifacts/sha256/{GW_SHA}"} <= names
    assert len([n for n in names if n.startswith("artifacts/")]) == 4   # file, OCI manifest + layer, git tar

    dst = cluster.tmp / "air-dst"
    r = cluster.kstage("bundle", "import", str(out), str(dst), env=cache(cluster, "dst"))
    assert r.returncode == 0, r.stderr
    assert "4 artifacts" in r.stdout
    # every artifact server out of reach: the run needs none of them
    dead = ["--mirror", "https://github.com/=https://127.0.0.1:1/",
            "--mirror", f"oci://{host}/=oci://127.0.0.1:1/",
            "--mirror", f"{git}=https://127.0.0.1:1/x.git"]
    r = cluster.kstage("apply", str(dst), "-n", ns, *dead, env=cache(cluster, "dst"))
    assert r.returncode == 0, r.stderr
    assert cluster.exists("crd", "gateways.gateway.networking.k8s.io")
    assert cluster.exists("crd", "inferenceservices.serving.kserve.io")
    assert cluster.get("configmap", "air-hello", "-n", ns)["data"]["message"] == "hello from git"
    # and with --offline from the imported cache
    r = cluster.kstage("plan", str(dst), "-n", ns, "--offline", env=cache(cluster, "dst"))
    assert r.returncode == 0, r.stderr
    # import never overwrites
    r = cluster.kstage("bundle", "import", str(out), str(dst), env=cache(cluster, "dst2"))
    assert r.returncode == 2 and "exists" in r.stderr

    # --bundle-file runs the archive in place: imported into a temporary
    # directory (removed afterwards) and a fresh cache, offline
    tmpdir = cluster.tmp / "bundle-file-tmp"
    tmpdir.mkdir()
    env = dict(cache(cluster, "bundle-file"), TMPDIR=str(tmpdir))
    cluster.kubectl("delete", "configmap", "air-hello", "-n", ns, "--wait=true")
    r = cluster.kstage("apply", "--bundle-file", str(out), "-n", ns, "--offline", *dead, env=env)
    assert r.returncode == 0, r.stderr
    assert cluster.get("configmap", "air-hello", "-n", ns)["data"]["message"] == "hello from git"
    assert not list(tmpdir.iterdir())
    r = cluster.kstage("plan", "--bundle-file", str(out), "-n", ns, "--offline", env=env)
    assert r.returncode == 0, r.stderr
    assert not list(tmpdir.iterdir())

    # a tampered artifact inside the archive: refused, nothing imported
    raw = gzip.decompress(out.read_bytes())
    buf = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(raw)) as src, tarfile.open(fileobj=buf, mode="w") as t:
        for m in src.getmembers():
            data = src.extractfile(m).read()
            if m.name == f"artifacts/sha256/{GW_SHA}":
                data = data.replace(b"gateway", b"GATEWAY", 1)
            m.size = len(data)
            t.addfile(m, io.BytesIO(data))
    bad = cluster.tmp / "air-bad.tar.gz"
    bad.write_bytes(gzip.compress(buf.getvalue()))
    r = cluster.kstage("bundle", "import", str(bad), str(cluster.tmp / "air-bad"), env=cache(cluster, "bad"))
    assert r.returncode == 2, r.stderr
    assert GW_SHA in r.stderr and "not taking it" in r.stderr
    assert not (cluster.tmp / "air-bad").exists()
    assert not list(cluster.tmp.glob("air-bad.import-*"))
    # and by --bundle-file, before anything is applied
    cluster.kubectl("delete", "configmap", "air-hello", "-n", ns, "--wait=true")
    r = cluster.kstage("apply", "--bundle-file", str(bad), "-n", ns, "--offline", env=env)
    assert r.returncode == 2, r.stderr
    assert GW_SHA in r.stderr and "not taking it" in r.stderr
    assert not cluster.exists("configmap", "air-hello", "-n", ns)
    assert not list(tmpdir.iterdir())


def test_hostile_bundle_archives_are_refused(cluster):
    tools = cluster.tmp / "hostile-import"
    subprocess.run([sys.executable, str(Path(__file__).resolve().parents[1] / "tools" / "hostile_archives.py"),
                    str(tools)], check=True)
    hostile = sorted(p for p in tools.iterdir() if p.is_file() and p.name[:2].isdigit())
    assert len(hostile) >= 12
    outside = tools / "outside"
    before = sorted(outside.rglob("*")) if outside.exists() else []
    for p in hostile:
        dst = cluster.tmp / ("imp-" + p.name)
        r = cluster.kstage("bundle", "import", str(p), str(dst), env=cache(cluster, "hostile"))
        assert r.returncode == 2, (p.name, r.stderr)
        assert "error" in r.stderr, (p.name, r.stderr)
        assert not dst.exists(), p.name
        assert not list(cluster.tmp.glob(f"imp-{p.name}.import-*")), p.name
    # nothing escaped to where the hostile entries point
    assert (sorted(outside.rglob("*")) if outside.exists() else []) == before
    assert not list(cluster.tmp.rglob("evil.yaml"))


def test_bundle_push_pull_through_the_registry(cluster):
    """bundle push sends the export archive as one OCI artifact; bundle pull
    elsewhere (an empty cache) gets the same manifest digest, the same files
    and the same pinned artifacts, and then runs offline."""
    import hashlib
    import urllib.request
    import ssl
    host = cluster.env["KSTAGE_OCI_HOST"]
    b = cluster.bundle("push-src", f"""\
        name: pushed
        stages:
          - name: kserve-crds
            chart: {{ref: oci://{host}/kserve/charts/kserve-crd, version: v0.15.2}}
            rollback: keep
          - name: first
            source: {{path: manifests}}
        """, {"manifests/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: pushed, namespace: default}\n"})
    r = cluster.kstage("fetch", b, "--update-lock", env=cache(cluster, "push"))
    assert r.returncode == 0, r.stderr
    ref = f"oci://{host}/e2e/bundles/pushed:v1"
    r = cluster.kstage("bundle", "push", b, ref, env=cache(cluster, "push"))
    assert r.returncode == 0, r.stderr
    pushed = r.stdout.split("digest: sha256:")[1].strip()
    # the registry serves that manifest, with kstage's media types
    ctx = ssl.create_default_context(cafile=cluster.env["KSTAGE_ARTIFACT_CA"])
    req = urllib.request.Request(f"https://{host}/v2/e2e/bundles/pushed/manifests/v1",
                                 headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    with urllib.request.urlopen(req, context=ctx, timeout=30) as resp:
        body = resp.read()
    assert hashlib.sha256(body).hexdigest() == pushed
    assert b"application/vnd.kstage.bundle.v1.tar+gzip" in body
    dst = cluster.tmp / "pulled"
    r = cluster.kstage("bundle", "pull", ref, str(dst), env=cache(cluster, "pull"))
    assert r.returncode == 0, r.stderr
    assert pushed in r.stdout and "2 artifacts" in r.stdout
    for f in ("kstage.yaml", "kstage.lock", "manifests/cm.yaml"):
        assert (dst / f).read_bytes() == (Path(b) / f).read_bytes(), f
    r = cluster.kstage("plan", str(dst), "--offline", env=cache(cluster, "pull"))
    assert r.returncode == 0, r.stderr
    # a Helm chart is no bundle
    r = cluster.kstage("bundle", "pull", f"oci://{host}/kserve/charts/kserve:v0.15.2", str(cluster.tmp / "nb"),
                       env=cache(cluster, "pull2"))
    assert r.returncode == 2 and "is not a kstage bundle" in r.stderr, r.stderr
    assert not (cluster.tmp / "nb").exists()
