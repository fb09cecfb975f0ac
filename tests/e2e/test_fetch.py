"""kstage fetch, kstage.lock and mirrors against the test cluster's HTTPS
artifact server: the Gateway API v1.2.1 standard-install.yaml is named by its
GitHub URL and fetched through a mirror rule to the artifact server, with its
real digest; damaged artifacts and a hand-edited lock line are refused (exit 2,
both digests) before anything is applied; 500 twice then 200 is survived;
hostile archive sources are refused."""
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from conftest import GW_SHA

GH = "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.2.1/standard-install.yaml"
CRD = "gateways.gateway.networking.k8s.io"


def mirror(cluster, prefix=""):
    return ["--mirror", "https://github.com/=" + cluster.env["KSTAGE_ARTIFACT_URL"] + prefix + "/"]


def locked_bundle(cluster, name, ns):
    """A bundle whose first stage makes a ConfigMap and whose second is the
    Gateway API CRDs by their GitHub URL, no sha256: pinned by the lock."""
    cluster.kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=true")
    b = cluster.bundle(name, f"""\
        name: {name}
        stages:
          - name: first
            source: {{path: manifests}}
          - name: gateway-api-crds
            source: {{url: {GH}}}
            rollback: keep
        """, {"manifests/cm.yaml": f"""\
        apiVersion: v1
        kind: Namespace
        metadata: {{name: {ns}}}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {{name: marker, namespace: {ns}}}
        data: {{a: b}}
        """})
    return b


def cache(cluster, name):
    return {"XDG_CACHE_HOME": str(cluster.tmp / ("cache-" + name))}


def test_update_lock_then_apply_through_a_mirror(cluster):
    b = locked_bundle(cluster, "fetch-lock", "e2e-fetch-lock")
    # not pinned yet: refused, nothing applied
    r = cluster.kstage("apply", b, *mirror(cluster), env=cache(cluster, "lock0"))
    assert r.returncode == 2, r.stderr
    assert "is not pinned" in r.stderr and "kstage fetch --update-lock" in r.stderr
    assert not cluster.exists("namespace", "e2e-fetch-lock")
    r = cluster.kstage("fetch", b, "--update-lock", *mirror(cluster), env=cache(cluster, "lock1"))
    assert r.returncode == 0, r.stderr
    lock = open(b + "/kstage.lock").read()
    assert f'url: "{GH}"' in lock
    assert f'sha256: "{GW_SHA}"' in lock
    assert 'resolved: "' + cluster.env["KSTAGE_ARTIFACT_URL"] + "/kubernetes-sigs/" in lock
    assert re.search(r"size: \d{5,}", lock)
    # apply with an empty cache, through the mirror
    r = cluster.kstage("apply", b, *mirror(cluster), env=cache(cluster, "lock2"))
    assert r.returncode == 0, r.stderr
    crd = cluster.get("crd", CRD)
    assert crd["metadata"]["annotations"]["gateway.networking.k8s.io/bundle-version"] == "v1.2.1"
    assert cluster.get("configmap", "marker", "-n", "e2e-fetch-lock")["data"] == {"a": "b"}
    # and again offline from that cache: no mirror, no network
    r = cluster.kstage("apply", b, "--offline", env=cache(cluster, "lock2"))
    assert r.returncode == 0, r.stderr
    # offline with an empty cache names what is missing
    r = cluster.kstage("fetch", b, "--offline", env=cache(cluster, "lock3"))
    assert r.returncode == 1, r.stderr
    assert f"{GH}: not in the cache (" in r.stderr and "--offline was given" in r.stderr


def test_damaged_artifacts_and_edited_lock_are_refused(cluster):
    b = locked_bundle(cluster, "fetch-damage", "e2e-fetch-damage")
    r = cluster.kstage("fetch", b, "--update-lock", *mirror(cluster), env=cache(cluster, "dmg0"))
    assert r.returncode == 0, r.stderr
    for i, prefix in enumerate(["/_tamper", "/_truncate/1000"]):
        r = cluster.kstage("apply", b, *mirror(cluster, prefix), env=cache(cluster, "dmg%d" % (i + 1)))
        assert r.returncode == 2, (prefix, r.stderr)
        assert f"sha256 mismatch: pinned {GW_SHA}, got " in r.stderr, r.stderr
        got = re.search(r"got ([0-9a-f]{64})", r.stderr).group(1)
        assert got != GW_SHA
        assert "kstage.lock:" in r.stderr
        assert not cluster.exists("namespace", "e2e-fetch-damage"), prefix
    # larger than the size the lock gives: stopped at that size
    lock = open(b + "/kstage.lock").read()
    open(b + "/kstage.lock", "w").write(re.sub(r"size: \d+", "size: 1000", lock))
    r = cluster.kstage("apply", b, *mirror(cluster), env=cache(cluster, "dmg-size"))
    assert r.returncode == 2, r.stderr
    assert "larger than 1000 bytes" in r.stderr and "kstage.lock:" in r.stderr, r.stderr
    assert not cluster.exists("namespace", "e2e-fetch-damage")
    open(b + "/kstage.lock", "w").write(lock)
    # a hand-edited lock line: refused naming the line and both digests
    bad = "0" * 63 + "1"
    lock = open(b + "/kstage.lock").read()
    line = [i + 1 for i, l in enumerate(lock.splitlines()) if "sha256:" in l][0]
    open(b + "/kstage.lock", "w").write(lock.replace(GW_SHA, bad))
    r = cluster.kstage("apply", b, *mirror(cluster), env=cache(cluster, "dmg3"))
    assert r.returncode == 2, r.stderr
    assert f"sha256 from {b}/kstage.lock:{line}:" in r.stderr, r.stderr
    assert f"pinned {bad}, got {GW_SHA}" in r.stderr
    assert not cluster.exists("namespace", "e2e-fetch-damage")
    # kstage.yaml pinning the real digest against the edited lock line
    y = open(b + "/kstage.yaml").read().replace("{url: " + GH + "}", "{url: " + GH + ", sha256: " + GW_SHA + "}")
    open(b + "/kstage.yaml", "w").write(y)
    r = cluster.kstage("plan", b, *mirror(cluster), env=cache(cluster, "dmg4"))
    assert r.returncode == 2, r.stderr
    assert f"kstage.yaml pins sha256 {GW_SHA}, the lock line {b}/kstage.lock:{line} has {bad}" in r.stderr


def test_server_failing_twice_then_answering(cluster):
    b = locked_bundle(cluster, "fetch-retry", "e2e-fetch-retry")
    prefix = "/_fail/2/_id/" + uuid.uuid4().hex
    r = cluster.kstage("fetch", b, "--update-lock", *mirror(cluster, prefix), env=cache(cluster, "retry"))
    assert r.returncode == 0, r.stderr
    assert f'sha256: "{GW_SHA}"' in open(b + "/kstage.lock").read()
    # three 500s for a pinned fetch: the fourth attempt gets the file
    r = cluster.kstage("fetch", b, *mirror(cluster, "/_fail/3/_id/" + uuid.uuid4().hex),
                       env=cache(cluster, "retry-b"))
    assert r.returncode == 0, r.stderr


def test_hostile_archive_sources_are_refused(cluster):
    """Archive sources (path) go through core/archive.c's checks when the
    stage renders: each hostile archive is refused by plan with exit 2 and a
    clear error (tests/tools/hostile_archives.py builds them)."""
    tools = cluster.tmp / "hostile"
    subprocess.run([sys.executable, str(Path(__file__).resolve().parents[1] / "tools" / "hostile_archives.py"),
                    str(tools)], check=True)
    cases = {
        "01-traversal.tar": 'climbs out with ".."',
        "03-absolute.tar": "has an absolute path",
        "04-symlink-escape.tar": "leaves the archive",
        "06-hardlink-escape.tar": "hard link",
        "08-char-device.tar": "is a character device",
        "10-gzip-bomb.tgz": "refused as a decompression bomb",
        "11-deep-nesting.tar": "nested deeper than",
        "12-many-entries.tgz": "more than 5000 entries",
        "13-not-an-archive.tgz": "not a tar or tar.gz archive",
        "16-zip-traversal.zip": 'climbs out with ".."',
        "18-zip-symlink-escape.zip": "leaves the archive",
        "19-zip-bomb.zip": "refused as a decompression bomb",
        "21-zip-encrypted.zip": "is encrypted",
    }
    for f, want in cases.items():
        b = cluster.bundle("arch-" + f.split("-")[0], f"""\
            name: arch
            stages:
              - name: evil
                source: {{path: {f}}}
            """)
        shutil.copy(tools / f, b)
        r = cluster.kstage("plan", b)
        assert r.returncode == 2, (f, r.stderr)
        assert want in r.stderr, (f, r.stderr)
