"""Helm charts from the test cluster's OCI registry (go-containerregistry's,
HTTPS with ca.crt): chart stages pinned by manifest digest in kstage.lock,
with real helm v4 as the oracle (helm push / helm pull digests, helm template
output); bearer-token and basic authentication with --registry-config; mirror
rules for oci://; a hand-edited lock refused before anything is applied;
--offline from the cache."""
import base64
import json
import os
import re
import subprocess
import tarfile
import io
from pathlib import Path

from conftest import ROOT

HELM = str(ROOT / "build" / "tools" / "bin" / "helm")


def helm(cluster, *args, check=True):
    r = subprocess.run([HELM, *args], capture_output=True, text=True, timeout=300,
                       env={"HOME": str(cluster.tmp / "helm-home"), "PATH": "/usr/bin:/bin"})
    if check:
        assert r.returncode == 0, r.stderr
    return r


def helm_digest(out):
    m = re.search(r"Digest: sha256:([0-9a-f]{64})", out)
    assert m, out
    return m.group(1)


def cache(cluster, name):
    return {"XDG_CACHE_HOME": str(cluster.tmp / ("ocicache-" + name))}


def hello_chart(cluster, version, greeting="hello"):
    """A one-ConfigMap chart, packaged and pushed with helm: the manifest
    digest helm reports."""
    tgz = cluster.tmp / "oci-hello" / f"oci-hello-{version}.tgz"
    tgz.parent.mkdir(exist_ok=True)
    files = {
        "oci-hello/Chart.yaml": f"apiVersion: v2\nname: oci-hello\nversion: {version}\n",
        "oci-hello/values.yaml": f"greeting: {greeting}\n",
        "oci-hello/templates/cm.yaml": ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                                        "  name: oci-hello\n  namespace: {{ .Release.Namespace }}\n"
                                        "data:\n  greeting: {{ .Values.greeting | quote }}\n"
                                        "  version: {{ .Chart.Version | quote }}\n"),
    }
    with tarfile.open(tgz, "w:gz") as t:
        for name, text in files.items():
            b = text.encode()
            ti = tarfile.TarInfo(name)
            ti.size = len(b)
            t.addfile(ti, io.BytesIO(b))
    host = cluster.env["KSTAGE_OCI_HOST"]
    r = helm(cluster, "push", str(tgz), f"oci://{host}/e2e", "--ca-file", cluster.env["KSTAGE_ARTIFACT_CA"])
    return helm_digest(r.stdout + r.stderr)


def lock_entries(b):
    text = Path(b, "kstage.lock").read_text()
    return re.findall(r'url: "([^"]+)"\n\s+resolved: "([^"]+)"\n\s+sha256: "([0-9a-f]{64})"\n\s+size: (\d+)', text)


def test_chart_stage_pinned_by_the_lock_then_applied_and_offline(cluster):
    host = cluster.env["KSTAGE_OCI_HOST"]
    digest = hello_chart(cluster, "0.1.0")
    ns = "e2e-oci"
    cluster.kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=true")
    cluster.kubectl("create", "namespace", ns)
    b = cluster.bundle("oci-lock", f"""\
        name: oci-lock
        stages:
          - name: crds
            chart: {{ref: oci://{host}/kserve/charts/kserve-crd, version: v0.15.2}}
            rollback: keep
          - name: hello
            chart: {{ref: oci://{host}/e2e/oci-hello, version: 0.1.0}}
        """)
    env = cache(cluster, "lock")
    # not pinned yet: refused, nothing applied
    r = cluster.kstage("apply", b, "-n", ns, env=env)
    assert r.returncode == 2, r.stderr
    assert "is not pinned" in r.stderr and "kstage fetch --update-lock" in r.stderr
    assert not cluster.exists("configmap", "oci-hello", "-n", ns)

    r = cluster.kstage("fetch", b, "--update-lock", env=env)
    assert r.returncode == 0, r.stderr
    entries = {u: (res, sha, int(size)) for u, res, sha, size in lock_entries(b)}
    # the lock holds what helm push reported, and what helm pull reports
    assert entries[f"oci://{host}/e2e/oci-hello:0.1.0"][1] == digest
    r = helm(cluster, "pull", f"oci://{host}/kserve/charts/kserve-crd", "--version", "v0.15.2",
             "--ca-file", cluster.env["KSTAGE_ARTIFACT_CA"], "-d", str(cluster.tmp))
    crd_digest = helm_digest(r.stdout + r.stderr)
    res, sha, size = entries[f"oci://{host}/kserve/charts/kserve-crd:v0.15.2"]
    assert sha == crd_digest
    assert res == f"oci://{host}/kserve/charts/kserve-crd:v0.15.2@sha256:{crd_digest}"
    assert size == (cluster.tmp / "kserve-crd-v0.15.2.tgz").stat().st_size

    r = cluster.kstage("apply", b, "-n", ns, env=env)
    assert r.returncode == 0, r.stderr
    cm = cluster.get("configmap", "oci-hello", "-n", ns)
    assert cm["data"] == {"greeting": "hello", "version": "0.1.0"}
    crd = json.loads(cluster.kubectl("get", "crd", "inferenceservices.serving.kserve.io", "-o", "json",
                                     "--show-managed-fields").stdout)
    assert any(m.get("manager") == "kstage" for m in crd["metadata"]["managedFields"])

    # the tag moves to other content: the lock still gets what was reviewed
    # (by digest from the registry, with a cold cache), until --update-lock
    moved = hello_chart(cluster, "0.1.0", greeting="moved")
    assert moved != digest
    r = cluster.kstage("apply", b, "-n", ns, env=cache(cluster, "cold"))
    assert r.returncode == 0, r.stderr
    assert cluster.get("configmap", "oci-hello", "-n", ns)["data"]["greeting"] == "hello"
    # --offline from the cache: no registry involved
    cluster.kubectl("delete", "configmap", "oci-hello", "-n", ns)
    r = cluster.kstage("apply", b, "-n", ns, "--offline", env=env)
    assert r.returncode == 0, r.stderr
    assert cluster.get("configmap", "oci-hello", "-n", ns)["data"]["greeting"] == "hello"
    r = cluster.kstage("fetch", b, "--update-lock", env=env)
    assert r.returncode == 0, r.stderr
    assert moved in Path(b, "kstage.lock").read_text()
    r = cluster.kstage("apply", b, "-n", ns, env=env)
    assert r.returncode == 0, r.stderr
    assert cluster.get("configmap", "oci-hello", "-n", ns)["data"]["greeting"] == "moved"
    # --offline with an empty cache names what is missing
    r = cluster.kstage("apply", b, "-n", ns, "--offline", env=cache(cluster, "empty"))
    assert r.returncode != 0
    assert "not in the cache" in r.stderr and "--offline" in r.stderr


def test_edited_lock_and_unknown_digest_are_refused(cluster):
    host = cluster.env["KSTAGE_OCI_HOST"]
    hello_chart(cluster, "0.2.0")
    ns = "e2e-oci-bad"
    cluster.kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=true")
    cluster.kubectl("create", "namespace", ns)
    b = cluster.bundle("oci-bad", f"""\
        name: oci-bad
        stages:
          - name: hello
            chart: {{ref: oci://{host}/e2e/oci-hello, version: 0.2.0}}
        """)
    r = cluster.kstage("fetch", b, "--update-lock", env=cache(cluster, "bad0"))
    assert r.returncode == 0, r.stderr
    good = lock_entries(b)[0][2]
    bad = "0" * 64
    lock = Path(b, "kstage.lock")
    lock.write_text(lock.read_text().replace(good, bad))
    # a fresh cache: the registry has no manifest with that digest
    r = cluster.kstage("apply", b, "-n", ns, env=cache(cluster, "bad1"))
    assert r.returncode == 2, r.stderr
    assert "not found in registry" in r.stderr and "kstage.lock:" in r.stderr
    assert not cluster.exists("configmap", "oci-hello", "-n", ns)
    # kstage.yaml pins one digest, the lock another: both named
    lock.write_text(lock.read_text().replace(bad, good))
    Path(b, "kstage.yaml").write_text(Path(b, "kstage.yaml").read_text().replace(
        "version: 0.2.0}", f"version: 0.2.0, digest: 'sha256:{bad}'}}"))
    r = cluster.kstage("apply", b, "-n", ns, env=cache(cluster, "bad2"))
    assert r.returncode == 2, r.stderr
    assert good in r.stderr and bad in r.stderr
    assert not cluster.exists("configmap", "oci-hello", "-n", ns)


def test_template_of_an_oci_chart_is_helm_template(cluster):
    host = cluster.env["KSTAGE_OCI_HOST"]
    for repo, version in (("kserve/charts/kserve", "v0.15.2"), ("envoyproxy/gateway-helm", "v1.8.3"),
                          ("kserve/charts/kserve-resources", "v0.20.0")):
        h = helm(cluster, "template", f"oci://{host}/{repo}", "--version", version, "-n", "kserve",
                 "--ca-file", cluster.env["KSTAGE_ARTIFACT_CA"])
        k = cluster.kstage("template", f"oci://{host}/{repo}", "--version", version, "-n", "kserve",
                           env=cache(cluster, "tmpl"))
        assert k.returncode == 0, k.stderr
        assert k.stdout == h.stdout, repo
        assert re.search(r"manifest sha256:[0-9a-f]{64}", k.stderr), k.stderr
    # values of an OCI chart, as helm show values has them (as YAML data)
    k = cluster.kstage("values", f"oci://{host}/kserve/charts/kserve", "--version", "v0.15.2", "-o", "json",
                       env=cache(cluster, "tmpl"))
    assert k.returncode == 0, k.stderr
    assert json.loads(k.stdout.splitlines()[-1])["kserve"]["version"] == "v0.15.2"
    # an unknown version is a clear input error
    k = cluster.kstage("template", f"oci://{host}/kserve/charts/kserve", "--version", "v9.9.9",
                       env=cache(cluster, "tmpl"))
    assert k.returncode == 2 and "not found in registry" in k.stderr, k.stderr


def registry_config(cluster, name, password):
    host = cluster.env["KSTAGE_OCI_HOST"]
    auth = base64.b64encode(f"kstage:{password}".encode()).decode()
    p = cluster.tmp / name
    p.write_text(json.dumps({"auths": {host: {"auth": auth}}}))
    return str(p)


def test_bearer_token_and_basic_auth(cluster):
    host = cluster.env["KSTAGE_OCI_HOST"]
    good = registry_config(cluster, "reg-good.json", "kstage-registry-secret")
    bad = registry_config(cluster, "reg-bad.json", "wrong-password")
    for kind in ("bearer", "basic"):
        ref = f"oci://{host}/{kind}/charts/kserve"
        (cluster.tmp / ("helm-" + kind)).mkdir(exist_ok=True)
        h = helm(cluster, "pull", ref, "--version", "v0.15.2", "--ca-file", cluster.env["KSTAGE_ARTIFACT_CA"],
                 "--registry-config", good, "-d", str(cluster.tmp / ("helm-" + kind)))
        b = cluster.bundle("oci-auth-" + kind, f"""\
            name: oci-auth
            stages:
              - name: kserve
                chart: {{ref: {ref}, version: v0.15.2}}
            """)
        # no credentials: refused with the way out named
        r = cluster.kstage("fetch", b, "--update-lock", env={**cache(cluster, kind + "0"), "HOME": str(cluster.tmp)})
        assert r.returncode == 2, r.stderr
        assert "no credentials" in r.stderr and "--registry-config" in r.stderr
        # wrong credentials: refused, the password never printed
        r = cluster.kstage("fetch", b, "--update-lock", "--registry-config", bad, "-v", "-v",
                           env=cache(cluster, kind + "1"))
        assert r.returncode == 2, r.stderr
        assert "wrong-password" not in r.stderr + r.stdout
        assert ("refused the credentials" if kind == "bearer" else "refused access") in r.stderr
        # right credentials: the digest helm pulled
        r = cluster.kstage("fetch", b, "--update-lock", "--registry-config", good, env=cache(cluster, kind + "2"))
        assert r.returncode == 0, r.stderr
        assert lock_entries(b)[0][2] == helm_digest(h.stdout + h.stderr)
        assert "kstage-registry-secret" not in Path(b, "kstage.lock").read_text()


def test_mirror_rule_for_oci(cluster):
    """The bundle names the chart where it lives publicly (ghcr.io); a mirror
    rule fetches it from the test registry with the same digest."""
    host = cluster.env["KSTAGE_OCI_HOST"]
    b = cluster.bundle("oci-mirror", """\
        name: oci-mirror
        stages:
          - name: kserve
            chart: {ref: oci://ghcr.io/kserve/charts/kserve, version: v0.15.2}
        """)
    r = cluster.kstage("fetch", b, "--update-lock", "--mirror", f"oci://ghcr.io/=oci://{host}/",
                       env=cache(cluster, "mirror"))
    assert r.returncode == 0, r.stderr
    (url, res, sha, size), = lock_entries(b)
    assert url == "oci://ghcr.io/kserve/charts/kserve:v0.15.2"
    assert res == f"oci://{host}/kserve/charts/kserve:v0.15.2@sha256:{sha}"
    r = cluster.kstage("fetch", b, "--mirror", f"oci://ghcr.io/=https://{host}/", env=cache(cluster, "mirror-x"))
    assert r.returncode == 2 and "stays oci://" in r.stderr, r.stderr


def test_chart_stage_with_its_own_values(cluster):
    """chart: {values: ...} replaces the bundle's .Values for that chart;
    its strings may be templates over the bundle's values."""
    host = cluster.env["KSTAGE_OCI_HOST"]
    hello_chart(cluster, "0.3.0")
    ns = "e2e-oci-values"
    cluster.kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=true")
    cluster.kubectl("create", "namespace", ns)
    b = cluster.bundle("oci-values", f"""\
        name: oci-values
        stages:
          - name: hello
            chart:
              ref: oci://{host}/e2e/oci-hello
              version: 0.3.0
              values: {{greeting: "{{{{ .Values.word }}}}, from the bundle"}}
        """, {"values/values.yaml": "word: hi\n"})
    env = cache(cluster, "values")
    r = cluster.kstage("fetch", b, "--update-lock", env=env)
    assert r.returncode == 0, r.stderr
    r = cluster.kstage("apply", b, "-n", ns, "--set", "word=hey", env=env)
    assert r.returncode == 0, r.stderr
    assert cluster.get("configmap", "oci-hello", "-n", ns)["data"]["greeting"] == "hey, from the bundle"


def test_version_ranges_resolve_on_update_lock_like_helm(cluster):
    """A range resolves against the registry's tags only on --update-lock, to
    the version helm pull picks for the same range; later runs use the pin."""
    host = cluster.env["KSTAGE_OCI_HOST"]
    for v in ("0.4.0", "0.4.1", "1.0.0-rc.1"):
        hello_chart(cluster, v)
    ref = f"oci://{host}/e2e/oci-hello"
    ranges = {"^0.4": "0.4.1", ">=0.4.0": "0.4.1", "~0.4.0": "0.4.1", "0.4.x": "0.4.1",
              ">=0.4.0 <0.4.1": "0.4.0", ">=1.0.0-0": "1.0.0-rc.1"}
    stages = "".join(f"""
          - name: r{i}
            chart: {{ref: {ref}, version: "{v}"}}""" for i, v in enumerate(ranges))
    b = cluster.bundle("oci-ranges", "name: oci-ranges\nstages:" + stages + "\n")
    env = cache(cluster, "ranges")
    r = cluster.kstage("fetch", b, "--update-lock", env=env)
    assert r.returncode == 0, r.stderr
    got = {u[len(ref) + 1:]: (res, sha) for u, res, sha, _ in lock_entries(b)}
    for i, (v, want) in enumerate(ranges.items()):
        assert got[v][0].startswith(f"{ref}:{want}@sha256:"), (v, got[v])
        d = cluster.tmp / ("helm-range-" + str(i))
        d.mkdir(exist_ok=True)
        h = helm(cluster, "pull", ref, "--version", v, "--ca-file", cluster.env["KSTAGE_ARTIFACT_CA"], "-d", str(d))
        assert got[v][1] == helm_digest(h.stdout + h.stderr), v
    # pinned: no tag listing, works offline
    r = cluster.kstage("fetch", b, "--offline", env=env)
    assert r.returncode == 0, r.stderr
    # KServe tags its charts "v0.15.2": kstage reads the "v" as semver does
    # (helm's strict parse finds no tag there)
    b2 = cluster.bundle("oci-ranges-v", f"""\
        name: oci-ranges-v
        stages:
          - name: r
            chart: {{ref: oci://{host}/kserve/charts/kserve-crd, version: "^0.15"}}
          - name: none
            chart: {{ref: {ref}, version: "^9"}}
        """)
    r = cluster.kstage("fetch", b2, "--update-lock", env=env)
    assert r.returncode == 2 and 'no tag meets version "^9"' in r.stderr, r.stderr
    assert "version ^0.15 resolved to v0.15.2" in r.stderr


def test_docker_credential_helpers(cluster):
    """credsStore / credHelpers in a Docker config.json: kstage runs
    docker-credential-NAME get with the registry host on stdin (Docker's
    protocol) and wins over auths, as Docker does; a helper that hangs,
    floods, fails or is missing is stopped or refused with a clear error,
    and the secret is never printed. The helpers are scripts this test
    writes."""
    host = cluster.env["KSTAGE_OCI_HOST"]
    bindir = cluster.tmp / "cred-bin"
    bindir.mkdir(exist_ok=True)
    log = cluster.tmp / "cred-helper.log"
    log.write_text("")
    scripts = {
        "kfake": f"""read -r h || true
echo "$1 $h" >> {log}
if [ "$h" = "{host}" ]; then
  printf '{{"ServerURL":"%s","Username":"kstage","Secret":"kstage-registry-secret"}}' "$h"
else
  echo "credentials not found in native keychain"; exit 1
fi""",
        "kslow": "sleep 60",
        "knoisy": "head -c 200000 /dev/zero | tr '\\0' x",
        "kfail": "echo oops >&2; exit 3",
    }
    for name, body in scripts.items():
        p = bindir / ("docker-credential-" + name)
        p.write_text("#!/bin/sh\n" + body + "\n")
        p.chmod(0o755)
    env_path = str(bindir) + ":" + os.environ.get("PATH", "")
    bad_auth = base64.b64encode(b"kstage:wrong-password").decode()

    def conf(name, doc):
        p = cluster.tmp / name
        p.write_text(json.dumps(doc))
        return str(p)

    ref = f"oci://{host}/bearer/charts/kserve"
    b = cluster.bundle("oci-credhelper", f"""\
        name: oci-credhelper
        stages:
          - name: kserve
            chart: {{ref: {ref}, version: v0.15.2}}
        """)

    def fetch(cfg, name, *extra):
        return cluster.kstage("fetch", b, "--update-lock", "--registry-config", cfg, "-v", "-v", *extra,
                              env={**cache(cluster, name), "PATH": env_path})

    # credsStore for every host
    r = fetch(conf("cred-store.json", {"credsStore": "kfake"}), "ch1")
    assert r.returncode == 0, r.stderr
    assert log.read_text().splitlines() == [f"get {host}"]
    assert "kstage-registry-secret" not in r.stdout + r.stderr
    # credHelpers for this host wins over a wrong auths entry
    r = fetch(conf("cred-helpers.json", {"credHelpers": {host: "kfake"}, "auths": {host: {"auth": bad_auth}}}), "ch2")
    assert r.returncode == 0, r.stderr
    # a helper with no credentials for the host: anonymous, so the registry's 401 is the error
    r = fetch(conf("cred-other.json", {"credHelpers": {"other.example:5000": "kfail"}, "credsStore": "kfake"}), "ch3")
    assert r.returncode == 0, r.stderr   # credHelpers names another host: credsStore answers
    nf = bindir / "docker-credential-knone"
    nf.write_text("#!/bin/sh\necho 'credentials not found in native keychain'\nexit 1\n")
    nf.chmod(0o755)
    r = fetch(conf("cred-none.json", {"credsStore": "knone"}), "ch4")
    assert r.returncode == 2 and "no credentials" in r.stderr, r.stderr
    # hangs: stopped at --fetch-timeout (below the helper's 30 s)
    r = fetch(conf("cred-slow.json", {"credsStore": "kslow"}), "ch5", "--fetch-timeout", "2s")
    assert r.returncode == 2, r.stderr
    assert "credential helper docker-credential-kslow for " + host + " did not finish within 2.0s" in r.stderr
    # floods: stopped at 64 KiB
    r = fetch(conf("cred-noisy.json", {"credsStore": "knoisy"}), "ch6")
    assert r.returncode == 2 and "printed more than 64 KiB" in r.stderr, r.stderr
    # fails
    r = fetch(conf("cred-fail.json", {"credsStore": "kfail"}), "ch7")
    assert r.returncode == 2 and "docker-credential-kfail for " + host + " failed (exit status 3)" in r.stderr, r.stderr
    # missing, and a name that is no helper name
    r = fetch(conf("cred-missing.json", {"credsStore": "kmissing"}), "ch8")
    assert r.returncode == 2 and "docker-credential-kmissing" in r.stderr and "No such file" in r.stderr, r.stderr
    r = fetch(conf("cred-evil.json", {"credsStore": "../../bin/sh"}), "ch9")
    assert r.returncode == 2 and "is not a helper name" in r.stderr, r.stderr
