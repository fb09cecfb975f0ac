"""bench/rollback_vs_helm.py - a failing upgrade rolled back by
`helm upgrade --rollback-on-failure` and by `kstage apply`, same chart, same
cluster, same run.

    python3 bench/rollback_vs_helm.py [CLUSTER_DIR]   (default build/test-cluster; needs `make cluster-up`)

The chart: a ConfigMap, a Deployment and, when .Values.lb, a LoadBalancer
Service (the test cluster gives no address to it, so it never becomes ready
for either tool). Revision 1 is installed by each tool in its own namespace;
then state changes out of band (kubectl adds a label to the ConfigMap and
scales the Deployment, and sets the ConfigMap's mode by hand); then revision 2 (other ConfigMap data, the Service)
fails and each tool rolls it back. Reported per tool: wall time of the failing
upgrade until the tool is back, API requests (the fault proxy's counters), and
the objects whose content (without server-managed fields and status) or
field ownership (managedFields: managers and their fields) differs from before
the upgrade. KSTAGE (default build/kstage), HELM and KUBECTL
(default build/tools/bin) may be set. Figures, never assertions.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "test-cluster")
KSTAGE = os.environ.get("KSTAGE", os.path.join(ROOT, "build", "kstage"))
HELM = os.environ.get("HELM", os.path.join(ROOT, "build", "tools", "bin", "helm"))
KUBECTL = os.environ.get("KUBECTL", os.path.join(ROOT, "build", "tools", "bin", "kubectl"))
SERVER = ("resourceVersion", "uid", "generation", "creationTimestamp", "managedFields")

env = {}
with open(os.path.join(DIR, "env")) as f:
    for line in f:
        k, _, v = line.strip().partition("=")
        if k:
            env[k] = v


def kubectl(*args, check=True, direct=True):
    cfg = env["KSTAGE_DIRECT_KUBECONFIG"] if direct else env["KSTAGE_KUBECONFIG"]
    return subprocess.run([KUBECTL, "--kubeconfig", cfg, *args], capture_output=True, text=True, check=check)


def fault(method, path):
    req = urllib.request.Request(env["KSTAGE_FAULT_URL"] + path, method=method)
    with urllib.request.urlopen(req, timeout=10) as r:
        t = r.read()
        return json.loads(t) if t.strip() else None


def chart(d):
    os.makedirs(os.path.join(d, "templates"))
    files = {
        "Chart.yaml": "apiVersion: v2\nname: rbapp\nversion: 0.1.0\n",
        "values.yaml": "mode: green\nlb: false\n",
        "templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-config}\n"
                             "data: {mode: \"{{ .Values.mode }}\"}\n",
        "templates/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec:\n"
                                 "  selector: {matchLabels: {app: rbapp}}\n  template:\n"
                                 "    metadata: {labels: {app: rbapp}, annotations: {mode: \"{{ .Values.mode }}\"}}\n"
                                 "    spec: {containers: [{name: c, image: registry.example/app:1}]}\n",
        "templates/lb.yaml": "{{- if .Values.lb }}\napiVersion: v1\nkind: Service\nmetadata: {name: app-lb}\n"
                             "spec: {type: LoadBalancer, selector: {app: rbapp}, ports: [{port: 80}]}\n{{- end }}\n",
    }
    for name, text in files.items():
        with open(os.path.join(d, name), "w") as f:
            f.write(text)


def dump(ns):
    out = {}
    for kind, name in (("configmap", "app-config"), ("deployment", "app"), ("service", "app-lb")):
        r = kubectl("get", kind, name, "-n", ns, "-o", "json", "--show-managed-fields", check=False)
        if r.returncode:
            out[f"{kind}/{name}"] = None
            continue
        o = json.loads(r.stdout)
        o.pop("status", None)
        # who owns what: the managers and their fields, without times
        o["managers"] = sorted(json.dumps([m.get("manager"), m.get("operation"), m.get("subresource"),
                                           m.get("fieldsV1")], sort_keys=True)
                               for m in o["metadata"].get("managedFields", []))
        for f in SERVER:
            o["metadata"].pop(f, None)
        o["metadata"].get("annotations", {}).pop("deployment.kubernetes.io/revision", None)
        out[f"{kind}/{name}"] = o
    return out


def paths(a, b, at=""):
    """Where a and b differ (JSON paths), at most a few."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += paths(a.get(k), b.get(k), f"{at}.{k}")
        return out[:4]
    return [] if a == b else [f"{at}: {json.dumps(a)[:60]} -> {json.dumps(b)[:60]}"]


def run(tool, ns, chart_dir, rev2):
    kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=true")
    kubectl("create", "namespace", ns)
    base_env = dict(os.environ, KUBECONFIG=env["KSTAGE_KUBECONFIG"])
    if tool == "helm":
        first = [HELM, "install", "rbapp", chart_dir, "-n", ns, "--wait", "--timeout", "60s"]
        second = [HELM, "upgrade", "rbapp", chart_dir, "-n", ns, "--rollback-on-failure", "--wait=legacy", "--timeout", "8s",
                  "--force-conflicts"]
    else:
        common = ["--kubeconfig", env["KSTAGE_KUBECONFIG"], "-n", ns, "--release", f"rbapp-{ns}", "-q"]
        first = [KSTAGE, "apply", chart_dir, *common]
        second = [KSTAGE, "apply", chart_dir, *common, "--timeout", "8s", "--force-conflicts"]
    subprocess.run(first, capture_output=True, text=True, check=True, env=base_env)
    kubectl("rollout", "status", "deployment/app", "-n", ns, "--timeout=60s")
    # out of band, between the two revisions
    kubectl("label", "configmap", "app-config", "-n", ns, "team=ops")
    kubectl("patch", "configmap", "app-config", "-n", ns, "--type=merge", "-p", '{"data":{"mode":"blue-by-hand"}}')
    kubectl("scale", "deployment", "app", "-n", ns, "--replicas=2")
    kubectl("rollout", "status", "deployment/app", "-n", ns, "--timeout=60s")
    before = dump(ns)
    fault("DELETE", "/counters")
    t0 = time.monotonic()
    r = subprocess.run(second + rev2, capture_output=True, text=True, env=base_env)
    wall = time.monotonic() - t0
    # the proxy also tallies each mutating request a second time as "WRITE ..."
    reqs = sum(v for k, v in fault("GET", "/counters").items() if not k.startswith("WRITE "))
    time.sleep(2)   # let controllers settle before comparing
    after = dump(ns)
    differ = sorted(k + ("" if before[k] is None or after[k] is None or
                         {**before[k], "managers": 0} != {**after[k], "managers": 0} else " (field owners only)")
                    for k in before if before[k] != after[k])
    notes = [p for k in before if before[k] != after[k] for p in paths(before[k], after[k], k.split(" ")[0])]
    return r.returncode, wall, reqs, differ, (r.stderr.strip().splitlines()[-1:] if r.stderr.strip() else []) + notes


def main():
    if not os.path.exists(os.path.join(DIR, "env")):
        sys.exit(f"bench/rollback_vs_helm: no test cluster at {DIR} (make cluster-up)")
    with tempfile.TemporaryDirectory() as tmp:
        cd = os.path.join(tmp, "rbapp")
        chart(cd)
        rev2 = ["--set", "mode=red", "--set", "lb=true"]
        print(f"bench/rollback_vs_helm: helm {subprocess.run([HELM, 'version', '--short'], capture_output=True, text=True).stdout.strip()}"
              f", kstage {KSTAGE}; load {open('/proc/loadavg').read().split()[0]}")
        res = {}
        for tool in ("helm", "kstage"):
            res[tool] = run(tool, f"bench-rb-{tool}", cd, rev2)
            rc, wall, reqs, differ, last = res[tool]
            print(f"  {tool:6}: exit {rc}, back in {wall:5.2f}s, {reqs:4d} API requests, "
                  f"objects differing from before: {len(differ)} {differ}")
            for line in last:
                print(f"          {line[:200]}")
        h, k = res["helm"], res["kstage"]
        print(f"bench/rollback_vs_helm: kstage/helm wall time {k[1] / h[1]:.2f}, requests {k[2] / max(h[2], 1):.2f}; "
              f"objects left changed: helm {len(h[3])}, kstage {len(k[3])}")
        for tool in ("helm", "kstage"):
            kubectl("delete", "namespace", f"bench-rb-{tool}", "--ignore-not-found", "--wait=false")


if __name__ == "__main__":
    main()
