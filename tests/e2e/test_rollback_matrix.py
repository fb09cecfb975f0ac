"""A failure injected in each stage of a five-stage bundle, each way: an object
that never becomes ready, persistent 500s from the fault proxy, kill -9 in the
middle of the stage then `rollback --recover`. After each, the objects the
bundle touches (and the Gateway API CRDs it applies from a pinned URL) must be
as before the run, as kubectl sees them. Prints how many scenarios ran and
how many ended exact."""
import json
import os
import signal
import subprocess
import time

import pytest

from test_rollback import NS, dump, objects, setup

GW_SHA = "97598bf6ab3b33b9b5c5432bdd24de091e4e9c3aa0575ebb0710a2a19cd64d64"
STAGES = ["crds", "config", "ops", "workloads", "last"]

# The one request of each stage a fault is put on: (method, path regexp).
# The CRDs exist before the run, so that stage sends no apply: its fault is
# on the LIST that journals them.
TARGET = {
    "crds": ("GET", r"/apis/apiextensions\.k8s\.io/v1/customresourcedefinitions$"),
    "config": ("PATCH", r"/namespaces/e2e-rb/configmaps/fresh$"),
    "ops": ("PUT", r"/namespaces/e2e-rb/configmaps/inferenceservice-config$"),
    "workloads": ("PATCH", r"/namespaces/e2e-rb/services/fresh-svc$"),
    "last": ("PATCH", r"/namespaces/e2e-rb/configmaps/last-cm$"),
}

NEVER_READY = f"""\
apiVersion: v1
kind: ConfigMap
metadata: {{name: never-ready, namespace: {NS}}}
data: {{phase: Pending}}
"""

RESULTS = []


def crd_dump(cluster):
    o = cluster.get("crd", "httproutes.gateway.networking.k8s.io")
    o.pop("status", None)
    for f in ("resourceVersion", "uid", "generation", "creationTimestamp", "managedFields"):
        o["metadata"].pop(f, None)
    return o


def matrix_bundle(cluster, name, fail_stage):
    """Five stages; with fail_stage, that stage also holds a ConfigMap that
    never becomes ready (the crds stage cannot: its source is the URL)."""
    cluster.kubectl("delete", "secret", "-n", "kstage-system", "-l", f"owner=kstage,name={name}",
                    "--ignore-not-found", check=False)
    rule = "\n            wait:\n              rules:\n                - {kind: ConfigMap, jsonPath: .data.phase, equals: Running}"

    def extra(stage):
        return (f"\n            timeout: 4s{rule}") if stage == fail_stage else ""
    files = {
        **objects(name),
        "last/cm.yaml": f"""\
            apiVersion: v1
            kind: ConfigMap
            metadata: {{name: last-cm, namespace: {NS}}}
            data: {{a: b}}
            """,
    }
    if fail_stage in ("config", "workloads", "last"):
        files[f"{fail_stage}/never-ready.yaml"] = NEVER_READY
    ops_source = ""
    if fail_stage == "ops":
        files["ops/never-ready.yaml"] = NEVER_READY
        ops_source = "\n            source: {path: ops}"
    return cluster.bundle(name, f"""\
        name: {name}
        stages:
          - name: crds
            source: {{url: {cluster.gw_url()}, sha256: {GW_SHA}}}
          - name: config
            source: {{path: config}}{extra("config")}
          - name: ops{ops_source}
            ops:
              - jsonKeyMerge: {{configMap: {NS}/inferenceservice-config, key: ingress,
                               set: {{ingressDomain: kstage.dev}}}}{extra("ops")}
          - name: workloads
            source: {{path: workloads}}
            ops:
              - rolloutRestart: {{deployment: {NS}/app}}{extra("workloads")}
          - name: last
            source: {{path: last}}{extra("last")}
        """, files)


def before_state(cluster):
    setup(cluster)
    for n in ("last-cm", "never-ready"):
        cluster.kubectl("delete", "configmap", n, "-n", NS, "--ignore-not-found", "--wait=true")
    # as kstage's own: its apply of them is then a no-op
    cluster.kubectl("apply", "--server-side", "--field-manager=kstage", "--force-conflicts", "-f", os.path.join(cluster.env["KSTAGE_FIXTURES"],
                                                                  "gateway-api/v1.2.1/standard-install.yaml"))
    d = dump(cluster)
    d[("configmap", "last-cm")] = None
    d[("crd", "httproutes")] = crd_dump(cluster)
    return d


def after_state(cluster):
    d = dump(cluster)
    d[("configmap", "last-cm")] = None if not cluster.exists("configmap", "last-cm", "-n", NS) else "present"
    d[("crd", "httproutes")] = crd_dump(cluster)
    return d


def check_exact(cluster, scenario, before):
    after = after_state(cluster)
    diff = {str(k): (before[k], after[k]) for k in before if before[k] != after[k]}
    RESULTS.append((scenario, not diff))
    assert not diff, f"{scenario}: " + json.dumps(diff, indent=1)


@pytest.fixture(autouse=True)
def no_faults(cluster):
    cluster.fault("DELETE", "/rules")
    yield
    cluster.fault("DELETE", "/rules")


@pytest.fixture(scope="module", autouse=True)
def report(pytestconfig):
    yield
    tr = pytestconfig.pluginmanager.getplugin("terminalreporter")
    capman = pytestconfig.pluginmanager.getplugin("capturemanager")
    exact = sum(1 for _, ok in RESULTS if ok)
    with capman.global_and_fixture_disabled():   # printed with the run, not captured
        tr.write_line(f"\nrollback matrix: {len(RESULTS)} scenarios, {exact} ended exact")
        for name, ok in RESULTS:
            tr.write_line(f"  {'exact' if ok else 'DIFFERS'}  {name}")


@pytest.mark.parametrize("stage", ["config", "ops", "workloads", "last"])
def test_never_ready_in_each_stage_rolls_back_exactly(cluster, stage):
    before = before_state(cluster)
    b = matrix_bundle(cluster, f"mx-nr-{stage}", stage)
    r = cluster.kstage("apply", b, "--force-conflicts")
    assert r.returncode == 1, r.stderr
    assert f"stage {stage}: not healthy within the stage timeout" in r.stderr, r.stderr
    check_exact(cluster, f"never-ready in stage {stage}", before)


@pytest.mark.parametrize("stage", STAGES)
def test_persistent_500s_in_each_stage_roll_back_exactly(cluster, stage):
    before = before_state(cluster)
    b = matrix_bundle(cluster, f"mx-500-{stage}", None)
    method, path = TARGET[stage]
    cluster.fault("POST", "/rules", {"method": method, "path": path, "action": "status", "status": 500})
    r = cluster.kstage("apply", b, "--force-conflicts")
    assert r.returncode != 0 and f"stage {stage}" in r.stderr and "500" in r.stderr, r.stderr
    if stage != "crds":   # (it fails before anything changed)
        assert r.returncode == 1, r.stderr
        assert "rolled back: the cluster is as it was before the run" in r.stderr, r.stderr
    check_exact(cluster, f"persistent 500s in stage {stage}", before)


@pytest.mark.parametrize("stage", STAGES)
def test_kill_9_in_each_stage_then_recover_is_exact(cluster, stage):
    before = before_state(cluster)
    name = f"mx-kill-{stage}"
    b = matrix_bundle(cluster, name, None)
    method, path = TARGET[stage]
    rule = cluster.fault("POST", "/rules", {"method": method, "path": path, "action": "hang"})
    e = dict(os.environ, XDG_CACHE_HOME=str(cluster.cache), SSL_CERT_FILE=cluster.env["KSTAGE_ARTIFACT_CA"])
    e.pop("KUBECONFIG", None)
    p = subprocess.Popen([cluster.bin, "apply", b, "--force-conflicts", "--kubeconfig", cluster.env["KSTAGE_KUBECONFIG"]],
                         env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while not [x for x in cluster.fault("GET", "/rules") if x["id"] == rule["id"] and x["matched"]]:
            assert time.time() < deadline and p.poll() is None, f"the run never reached stage {stage}"
            time.sleep(0.2)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    cluster.fault("DELETE", "/rules")
    # the killed run's Lease would expire by itself; drop it to go on at once
    cluster.kubectl("delete", "lease", f"kstage.{name}", "-n", "kstage-system", "--ignore-not-found")
    pending = cluster.get("secret", "-n", "kstage-system", "-l", f"owner=kstage,name={name},status=pending")["items"]
    if stage == "crds":
        # killed before anything changed: no record was written, nothing to recover
        assert not pending
    else:
        assert pending, "a run killed after it changed something leaves a pending record"
        r = cluster.kstage("rollback", "--recover", name)
        assert r.returncode == 0, r.stderr
    check_exact(cluster, f"kill -9 in stage {stage}, then rollback --recover", before)
