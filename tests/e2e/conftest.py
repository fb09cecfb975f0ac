"""Shared fixtures for the kstage apply/plan e2e scenarios.

They run $KSTAGE_ASAN_BIN (else $KSTAGE_BIN, else build/asan/kstage) against
the running test cluster (build/test-cluster, `make cluster-up`) and check
what happened with an independent client: kubectl from build/tools/bin.
"""
import json
import os
import pathlib
import subprocess
import tempfile
import textwrap
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CLUSTER = pathlib.Path(os.environ.get("KSTAGE_E2E_CLUSTER_DIR") or ROOT / "build" / "test-cluster")
KUBECTL = str(ROOT / "build" / "tools" / "bin" / "kubectl")
GW_SHA = "97598bf6ab3b33b9b5c5432bdd24de091e4e9c3aa0575ebb0710a2a19cd64d64"


def _env():
    env = {}
    p = CLUSTER / "env"
    if not p.exists():
        return None
    for line in p.read_text().splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            env[k] = v
    return env


def kstage_bin():
    for k in ("KSTAGE_ASAN_BIN", "KSTAGE_BIN"):
        v = os.environ.get(k)
        if v and os.path.exists(v):
            return v
    for p in (ROOT / "build" / "asan" / "kstage", ROOT / "build" / "kstage"):
        if p.exists():
            return str(p)
    _missing("no kstage binary (set KSTAGE_ASAN_BIN)")


class Cluster:
    def __init__(self, env, tmp):
        self.env = env
        self.tmp = tmp
        self.bin = kstage_bin()
        self.cache = tmp / "cache"

    # --- independent client -------------------------------------------------
    def kubectl(self, *args, kubeconfig=None, check=True, input=None):
        cmd = [KUBECTL, "--kubeconfig", kubeconfig or self.env["KSTAGE_DIRECT_KUBECONFIG"], *args]
        r = subprocess.run(cmd, capture_output=True, text=True, input=input)
        if check and r.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {r.stderr}")
        return r

    def get(self, *args, **kw):
        r = self.kubectl("get", *args, "-o", "json", **kw)
        return json.loads(r.stdout)

    def exists(self, *args):
        return self.kubectl("get", *args, check=False).returncode == 0

    def rvs(self, refs):
        """resourceVersion of each (kind, ns, name)."""
        out = {}
        for kind, ns, name in refs:
            a = ["-n", ns] if ns else []
            out[(kind, ns, name)] = self.get(kind, name, *a)["metadata"]["resourceVersion"]
        return out

    # --- kstage ---------------------------------------------------------------
    def kstage(self, *args, kubeconfig=None, env=None, timeout=300):
        e = dict(os.environ)
        e["XDG_CACHE_HOME"] = str(self.cache)
        e["SSL_CERT_FILE"] = self.env["KSTAGE_ARTIFACT_CA"]
        e["NO_COLOR"] = "1"
        e.pop("KUBECONFIG", None)
        if env:
            e.update(env)
        cmd = [self.bin, *args, "--kubeconfig", kubeconfig or self.env["KSTAGE_KUBECONFIG"]]
        r = subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=timeout)
        return r

    def bundle(self, name, kstage_yaml, files=None):
        d = self.tmp / name
        d.mkdir(parents=True, exist_ok=True)
        (d / "kstage.yaml").write_text(textwrap.dedent(kstage_yaml))
        for rel, text in (files or {}).items():
            p = d / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(textwrap.dedent(text))
        return str(d)

    def gw_url(self):
        return (self.env["KSTAGE_ARTIFACT_URL"] +
                "/kubernetes-sigs/gateway-api/releases/download/v1.2.1/standard-install.yaml")

    # --- fault proxy ------------------------------------------------------------
    def fault(self, method, path, body=None):
        req = urllib.request.Request(self.env["KSTAGE_FAULT_URL"] + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            t = r.read()
            return json.loads(t) if t.strip() else None


def _missing(why):
    """Under `make test` (KSTAGE_E2E_REQUIRE=1) a missing cluster or binary is
    a failure, never a silent skip; run by hand, the suite skips."""
    if os.environ.get("KSTAGE_E2E_REQUIRE"):
        pytest.fail(why, pytrace=False)
    pytest.skip(why)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    env = _env()
    if not env:
        _missing("test cluster is not running (make cluster-up)")
    return Cluster(env, tmp_path_factory.mktemp("kstage-e2e"))
