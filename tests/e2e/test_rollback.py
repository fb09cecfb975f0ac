"""Release records and exact rollback against the test cluster, checked with kubectl."""
import base64
import datetime
import gzip
import json

NS = "e2e-rb"

SERVER_FIELDS = ("resourceVersion", "uid", "generation", "creationTimestamp", "managedFields")

PATCHED = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: patched
  namespace: e2e-rb
  labels: {team: platform}
  annotations: {note: "set by hand"}
data:
  mode: blue
  theirs: "kept"
"""

INFERENCE = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: inferenceservice-config, namespace: e2e-rb}
data:
  ingress: |-
    {
        "ingressGateway" : "knative-serving/knative-ingress-gateway",
        "ingressDomain":  "example.com",
        "urlScheme": "http"
    }
  other: untouched
"""

APP = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: e2e-rb}
spec:
  replicas: 1
  selector: {matchLabels: {app: rb}}
  template:
    metadata: {labels: {app: rb}}
    spec:
      containers: [{name: c, image: registry.example/app:1}]
"""

REFS = [
    ("configmap", NS, "patched"),
    ("configmap", NS, "inferenceservice-config"),
    ("deployment", NS, "app"),
    ("configmap", NS, "fresh"),
    ("secret", NS, "fresh-secret"),
    ("service", NS, "fresh-svc"),
    ("configmap", NS, "never-ready"),
    ("namespace", None, "e2e-rb-new"),
]


def dump(cluster):
    """Each touched object as kubectl sees it, without server-managed fields."""
    out = {}
    for kind, ns, name in REFS:
        a = ["-n", ns] if ns else []
        r = cluster.kubectl("get", kind, name, *a, "-o", "json", check=False)
        if r.returncode != 0:
            assert "NotFound" in r.stderr, r.stderr
            out[(kind, name)] = None
            continue
        o = json.loads(r.stdout)
        o.pop("status", None)
        for f in SERVER_FIELDS:
            o["metadata"].pop(f, None)
        # the Deployment controller counts rollouts here; putting the prior
        # template back is a rollout (the restart after the config is restored)
        ann = o["metadata"].get("annotations", {})
        ann.pop("deployment.kubernetes.io/revision", None)
        if not ann:
            o["metadata"].pop("annotations", None)
        out[(kind, name)] = o
    return out


def managers(cluster, kind, name):
    o = cluster.get(kind, name, "-n", NS, "--show-managed-fields")
    return sorted((m["manager"], m["operation"]) for m in o["metadata"].get("managedFields", []))


def setup(cluster):
    cluster.kubectl("delete", "namespace", "e2e-rb-new", "--ignore-not-found", "--wait=true")
    cluster.kubectl("create", "namespace", NS, check=False)
    for n in ("fresh", "never-ready"):
        cluster.kubectl("delete", "configmap", n, "-n", NS, "--ignore-not-found", "--wait=true")
    cluster.kubectl("delete", "secret", "fresh-secret", "-n", NS, "--ignore-not-found", "--wait=true")
    cluster.kubectl("delete", "service", "fresh-svc", "-n", NS, "--ignore-not-found", "--wait=true")
    for text in (PATCHED, INFERENCE, APP):
        cluster.kubectl("apply", "-f", "-", input=text)
    cluster.kubectl("rollout", "status", "deployment/app", "-n", NS, "--timeout=60s")


def objects(name):
    """The files of the config and workloads stages of bundle()."""
    return {
        "config/cm.yaml": f"""\
            apiVersion: v1
            kind: Namespace
            metadata: {{name: e2e-rb-new}}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {{name: patched, namespace: {NS}, labels: {{release: {name}}}}}
            data: {{mode: green}}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {{name: fresh, namespace: {NS}}}
            data: {{a: b}}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {{name: fresh-secret, namespace: {NS}}}
            stringData: {{token: s3cret}}
            """,
        "workloads/svc.yaml": f"""\
            apiVersion: v1
            kind: Service
            metadata: {{name: fresh-svc, namespace: {NS}}}
            spec:
              ports: [{{port: 80}}]
              selector: {{app: rb}}
            """,
    }


def bundle(cluster, name, last_timeout="4s"):
    """The bundle, its release's records (of earlier sessions) gone."""
    cluster.kubectl("delete", "secret", "-n", "kstage-system", "-l", f"owner=kstage,name={name}",
                    "--ignore-not-found", check=False)
    return cluster.bundle(name, f"""\
        name: {name}
        stages:
          - name: config
            source: {{path: config}}
          - name: ops
            ops:
              - jsonKeyMerge: {{configMap: {NS}/inferenceservice-config, key: ingress,
                               set: {{ingressDomain: kstage.dev}}}}
          - name: workloads
            source: {{path: workloads}}
            ops:
              - rolloutRestart: {{deployment: {NS}/app}}
          - name: last
            source: {{path: last}}
            timeout: {last_timeout}
            wait:
              rules:
                - {{kind: ConfigMap, jsonPath: .data.phase, equals: Running}}
        """, {
        **objects(name),
        "last/cm.yaml": f"""\
            apiVersion: v1
            kind: ConfigMap
            metadata: {{name: never-ready, namespace: {NS}}}
            data: {{phase: Pending}}
            """})


def record(cluster, release, revision):
    """The decoded payload of a one-part record, read with kubectl."""
    s = cluster.get("secret", f"kstage.v1.{release}.v{revision}", "-n", "kstage-system")
    return s, json.loads(gzip.decompress(base64.b64decode(s["data"]["release"])))


def test_failed_last_stage_rolls_back_to_exactly_before(cluster):
    setup(cluster)
    before = dump(cluster)
    mgr_before = managers(cluster, "configmap", "patched")
    b = bundle(cluster, "rb-exact")
    # kubectl owns data.mode of the pre-existing ConfigMap: kstage takes it over
    r = cluster.kstage("apply", b, "--force-conflicts")
    assert r.returncode == 1, r.stderr
    assert "stage last: not healthy within the stage timeout" in r.stderr
    assert "rolled back: the cluster is as it was before the run" in r.stderr
    after = dump(cluster)
    diff = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert not diff, json.dumps({str(k): v for k, v in diff.items()}, indent=1)
    # the exact prior string of the merged key, formatting included
    cm = cluster.get("configmap", "inferenceservice-config", "-n", NS)
    assert cm["data"]["ingress"] == before[("configmap", "inferenceservice-config")]["data"]["ingress"]
    # kstage owns nothing it did not own before
    assert managers(cluster, "configmap", "patched") == mgr_before
    # the record says what happened, with the prior state journaled
    s, rec = record(cluster, "rb-exact", 1)
    assert s["type"] == "kstage.dev/release.v1"
    assert s["metadata"]["labels"]["status"] == "rolled-back"
    assert rec["status"] == "rolled-back"
    stages = {st["name"]: st for st in rec["stages"]}
    assert [st["name"] for st in rec["stages"]] == ["config", "ops", "workloads", "last"]
    assert all(st["result"] == "rolled-back" for st in rec["stages"])
    assert "not healthy" in stages["last"]["error"]
    objs = {(o["kind"], o["name"]): o for o in stages["config"]["objects"]}
    assert objs[("ConfigMap", "patched")]["prior"]["data"]["mode"] == "blue"
    assert objs[("ConfigMap", "fresh")]["prior"] == "absent"
    assert stages["ops"]["objects"][0]["keyPrior"] == cm["data"]["ingress"]
    lease = cluster.kubectl("get", "lease", "kstage.rb-exact", "-n", "kstage-system", check=False)
    assert lease.returncode != 0, "the Lease is given up"


def test_no_rollback_keeps_the_partial_state_and_says_how_to_undo(cluster):
    setup(cluster)
    b = bundle(cluster, "rb-keep")
    r = cluster.kstage("apply", b, "--no-rollback", "--force-conflicts")
    assert r.returncode == 3, r.stderr
    assert "not rolled back (--no-rollback)" in r.stderr and "kstage rollback rb-keep" in r.stderr
    assert cluster.get("configmap", "patched", "-n", NS)["data"]["mode"] == "green"
    assert cluster.exists("configmap", "fresh", "-n", NS)
    s, rec = record(cluster, "rb-keep", 1)
    assert rec["status"] == "failed"
    # a revision that ended failed is final: the next apply is not refused
    cluster.kubectl("delete", "configmap", "never-ready", "-n", NS)
    setup(cluster)


def test_pending_revision_is_refused_and_lease_holder_named(cluster):
    setup(cluster)
    b = bundle(cluster, "rb-pending")
    # a Lease held by another run: refused at once, naming the holder
    cluster.kubectl("create", "namespace", "kstage-system", check=False)
    cluster.kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "kstage.rb-pending", "namespace": "kstage-system"},
        "spec": {"holderIdentity": "ci-host pid 4242", "leaseDurationSeconds": 600,
                 "renewTime": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}}))
    r = cluster.kstage("apply", b, "--force-conflicts")
    assert r.returncode == 1, r.stderr
    assert "ci-host pid 4242" in r.stderr
    assert not cluster.exists("configmap", "fresh", "-n", NS)
    cluster.kubectl("delete", "lease", "kstage.rb-pending", "-n", "kstage-system")


def test_killed_run_is_refused_then_recovered_exactly(cluster):
    import os
    import signal
    import subprocess
    import time
    setup(cluster)
    before = dump(cluster)
    b = bundle(cluster, "rb-kill", last_timeout="120s")
    e = dict(os.environ, XDG_CACHE_HOME=str(cluster.cache), SSL_CERT_FILE=cluster.env["KSTAGE_ARTIFACT_CA"])
    e.pop("KUBECONFIG", None)
    p = subprocess.Popen([cluster.bin, "apply", b, "--force-conflicts", "--kubeconfig", cluster.env["KSTAGE_KUBECONFIG"]],
                         env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 90
        while not cluster.exists("configmap", "never-ready", "-n", NS):
            assert time.time() < deadline and p.poll() is None, "the run never reached its last stage"
            time.sleep(0.2)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    assert dump(cluster) != before
    # the killed run's Lease would expire by itself; drop it to go on at once
    cluster.kubectl("delete", "lease", "kstage.rb-kill", "-n", "kstage-system")
    r = cluster.kstage("apply", b, "--force-conflicts")
    assert r.returncode == 1, r.stderr
    assert "revision 1 is pending" in r.stderr and "kstage rollback --recover rb-kill" in r.stderr
    r = cluster.kstage("rollback", "--recover", "rb-kill")
    assert r.returncode == 0, r.stderr
    after = dump(cluster)
    diff = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert not diff, json.dumps({str(k): v for k, v in diff.items()}, indent=1)
    s, rec = record(cluster, "rb-kill", 1)
    assert rec["status"] == "rolled-back"


def test_sigterm_during_a_wait_rolls_back_exactly(cluster):
    import os
    import signal
    import subprocess
    import time
    setup(cluster)
    before = dump(cluster)
    b = bundle(cluster, "rb-term", last_timeout="120s")
    e = dict(os.environ, XDG_CACHE_HOME=str(cluster.cache), SSL_CERT_FILE=cluster.env["KSTAGE_ARTIFACT_CA"])
    e.pop("KUBECONFIG", None)
    p = subprocess.Popen([cluster.bin, "apply", b, "--force-conflicts", "--kubeconfig", cluster.env["KSTAGE_KUBECONFIG"]],
                         env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 90
        while not cluster.exists("configmap", "never-ready", "-n", NS):
            assert time.time() < deadline and p.poll() is None, "the run never reached its last stage"
            time.sleep(0.2)
        # the last stage now waits for an object that never becomes ready
        p.send_signal(signal.SIGTERM)
        p.send_signal(signal.SIGTERM)   # a second one must not cut the rollback short
        _, err = p.communicate(timeout=90)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 1, err
    assert "stage last: interrupted" in err, err
    assert "rolled back: the cluster is as it was before the run" in err, err
    after = dump(cluster)
    diff = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert not diff, json.dumps({str(k): v for k, v in diff.items()}, indent=1)
    s, rec = record(cluster, "rb-term", 1)
    assert rec["status"] == "rolled-back"
    assert all(st["result"] == "rolled-back" for st in rec["stages"])
    lease = cluster.kubectl("get", "lease", "kstage.rb-term", "-n", "kstage-system", check=False)
    assert lease.returncode != 0, "the Lease is given up"


def test_rollback_to_revision_one_restores_its_objects(cluster):
    setup(cluster)
    b = cluster.bundle("rb-rev", f"""\
        name: rb-rev
        stages:
          - name: config
            templates: [cm.yaml]
        """, {"values/values.yaml": "mode: green\nextra: false\n",
              "templates/cm.yaml": f"""\
            apiVersion: v1
            kind: ConfigMap
            metadata: {{name: patched, namespace: {NS}}}
            data: {{mode: "{{{{ .Values.mode }}}}"}}
            {{{{- if .Values.extra }}}}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {{name: fresh, namespace: {NS}}}
            data: {{a: b}}
            {{{{- end }}}}
            """})
    cluster.kubectl("delete", "secret", "-n", "kstage-system", "-l", "owner=kstage,name=rb-rev", check=False)
    r = cluster.kstage("apply", b, "--force-conflicts")
    assert r.returncode == 0, r.stderr
    first = dump(cluster)
    r = cluster.kstage("apply", b, "--set", "mode=red", "--set", "extra=true")
    assert r.returncode == 0, r.stderr
    assert cluster.get("configmap", "patched", "-n", NS)["data"]["mode"] == "red"
    assert cluster.exists("configmap", "fresh", "-n", NS)
    r = cluster.kstage("rollback", "rb-rev", "1")
    assert r.returncode == 0, r.stderr
    after = dump(cluster)
    diff = {k: (first[k], after[k]) for k in first if first[k] != after[k]}
    assert not diff, json.dumps({str(k): v for k, v in diff.items()}, indent=1)
    labels = {s["metadata"]["labels"]["revision"]: s["metadata"]["labels"]["status"]
              for s in cluster.get("secret", "-n", "kstage-system", "-l", "owner=kstage,name=rb-rev")["items"]}
    assert labels == {"1": "deployed", "2": "rolled-back"}, labels


def test_uninstall_restores_the_patched_key_exactly(cluster):
    setup(cluster)
    before = dump(cluster)
    cluster.kubectl("delete", "secret", "-n", "kstage-system", "-l", "owner=kstage,name=rb-uninstall", check=False)
    b = cluster.bundle("rb-uninstall", f"""\
        name: rb-uninstall
        stages:
          - name: config
            source: {{path: config}}
          - name: ops
            ops:
              - jsonKeyMerge: {{configMap: {NS}/inferenceservice-config, key: ingress,
                               set: {{ingressDomain: kstage.dev}}}}
        """, {"config/cm.yaml": f"""\
            apiVersion: v1
            kind: ConfigMap
            metadata: {{name: fresh, namespace: {NS}}}
            data: {{a: b}}
            """})
    r = cluster.kstage("apply", b)
    assert r.returncode == 0, r.stderr
    assert "kstage.dev" in cluster.get("configmap", "inferenceservice-config", "-n", NS)["data"]["ingress"]
    r = cluster.kstage("uninstall", "rb-uninstall")
    assert r.returncode == 0, r.stderr
    after = dump(cluster)
    diff = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert not diff, json.dumps({str(k): v for k, v in diff.items()}, indent=1)
    labels = {s["metadata"]["labels"]["revision"]: s["metadata"]["labels"]["status"]
              for s in cluster.get("secret", "-n", "kstage-system", "-l", "owner=kstage,name=rb-uninstall")["items"]}
    assert labels == {"1": "uninstalled"}, labels


def test_release_namespace_from_the_values_file(cluster, tmp_path):
    """kstage.releaseNamespace in a values file puts the records (and the Lease) there."""
    recs = "e2e-rb-records"
    cluster.kubectl("delete", "namespace", recs, "--ignore-not-found", "--wait=true")
    cluster.kubectl("create", "namespace", NS, check=False)
    cluster.kubectl("delete", "configmap", "vns", "-n", NS, "--ignore-not-found", "--wait=true")
    cluster.kubectl("delete", "secret", "-n", "kstage-system", "-l", "owner=kstage,name=rb-values-ns", check=False)
    b = cluster.bundle("rb-values-ns", """\
        name: rb-values-ns
        stages:
          - name: config
            source: {path: config}
        """, {"config/cm.yaml": f"""\
            apiVersion: v1
            kind: ConfigMap
            metadata: {{name: vns, namespace: {NS}}}
            data: {{a: b}}
            """})
    vf = tmp_path / "records.yaml"
    vf.write_text(f"kstage:\n  releaseNamespace: {recs}\n")
    r = cluster.kstage("apply", b, "-f", str(vf))
    assert r.returncode == 0, r.stderr
    items = cluster.get("secret", "-n", recs, "-l", "owner=kstage,name=rb-values-ns")["items"]
    assert [(s["metadata"]["labels"]["revision"], s["metadata"]["labels"]["status"]) for s in items] == [("1", "deployed")]
    assert not cluster.get("secret", "-n", "kstage-system", "-l", "owner=kstage,name=rb-values-ns")["items"]
    assert not cluster.get("lease", "-n", recs)["items"]   # given up
    r = cluster.kstage("uninstall", "rb-values-ns", "--release-namespace", recs)
    assert r.returncode == 0, r.stderr
    assert not cluster.exists("configmap", "vns", "-n", NS)
    cluster.kubectl("delete", "namespace", recs, "--wait=false")


def test_a_record_that_cannot_be_finished_stays_pending_and_says_how_to_recover(cluster):
    """Every stage went through but the record's last write keeps failing: the
    run says so (not "--no-rollback"), the revision stays pending, and
    `rollback --recover` puts the cluster back."""
    cluster.kubectl("create", "namespace", NS, check=False)
    cluster.kubectl("delete", "configmap", "unfinished", "-n", NS, "--ignore-not-found", "--wait=true")
    cluster.kubectl("delete", "secret", "-n", "kstage-system", "-l", "owner=kstage,name=rb-unfinished", check=False)
    b = cluster.bundle("rb-unfinished", """\
        name: rb-unfinished
        stages:
          - name: config
            source: {path: cm.yaml}
        """, {"cm.yaml": f"""\
            apiVersion: v1
            kind: ConfigMap
            metadata: {{name: unfinished, namespace: {NS}}}
            data: {{a: b}}
            """})
    cluster.fault("DELETE", "/rules")
    cluster.fault("POST", "/rules", {"method": "PUT", "path": r"/secrets/kstage\.v1\.rb-unfinished\.v1$",
                                     "action": "status", "status": 500})
    try:
        r = cluster.kstage("apply", b)
    finally:
        cluster.fault("DELETE", "/rules")
    assert r.returncode == 3, r.stderr
    assert "applied, but the release record could not be finished" in r.stderr, r.stderr
    assert "kstage rollback --recover rb-unfinished" in r.stderr and "--no-rollback" not in r.stderr, r.stderr
    s = cluster.get("secret", "kstage.v1.rb-unfinished.v1", "-n", "kstage-system")
    assert s["metadata"]["labels"]["status"] == "pending"
    assert cluster.exists("configmap", "unfinished", "-n", NS)
    r = cluster.kstage("rollback", "--recover", "rb-unfinished")
    assert r.returncode == 0, r.stderr
    assert not cluster.exists("configmap", "unfinished", "-n", NS)


def test_uninstall_after_history_max_pruned_the_first_revisions(cluster):
    """Four revisions with --history-max 2: revisions 1 and 2 are pruned, their
    first-touch prior states kept in revision 3's origin; uninstall still puts
    the patched key back to its exact original string and deletes what
    revision 1 created."""
    setup(cluster)
    before = dump(cluster)
    ingress = cluster.get("configmap", "inferenceservice-config", "-n", NS)["data"]["ingress"]
    cluster.kubectl("delete", "secret", "-n", "kstage-system", "-l", "owner=kstage,name=rb-pruned", check=False)
    b = cluster.bundle("rb-pruned", f"""\
        name: rb-pruned
        stages:
          - name: config
            templates: [cm.yaml]
          - name: ops
            ops:
              - jsonKeyMerge: {{configMap: {NS}/inferenceservice-config, key: ingress,
                               set: {{ingressDomain: kstage.dev}}}}
        """, {"values/values.yaml": "mode: green\n",
              "templates/cm.yaml": f"""\
            apiVersion: v1
            kind: ConfigMap
            metadata: {{name: patched, namespace: {NS}}}
            data: {{mode: "{{{{ .Values.mode }}}}"}}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {{name: fresh, namespace: {NS}}}
            data: {{a: "{{{{ .Values.mode }}}}"}}
            """})
    for rev in range(1, 5):
        r = cluster.kstage("apply", b, "--force-conflicts", "--history-max", "2", "--set", f"mode=r{rev}")
        assert r.returncode == 0, r.stderr
        assert cluster.get("configmap", "fresh", "-n", NS)["data"]["a"] == f"r{rev}"
    assert "kstage.dev" in cluster.get("configmap", "inferenceservice-config", "-n", NS)["data"]["ingress"]
    labels = {s["metadata"]["labels"]["revision"]: s["metadata"]["labels"]["status"]
              for s in cluster.get("secret", "-n", "kstage-system", "-l", "owner=kstage,name=rb-pruned")["items"]}
    assert labels == {"3": "superseded", "4": "deployed"}, labels
    _, rec3 = record(cluster, "rb-pruned", 3)
    assert sorted(o["name"] for o in rec3["origin"]) == ["fresh", "inferenceservice-config", "patched"], rec3["origin"]
    r = cluster.kstage("uninstall", "rb-pruned")
    assert r.returncode == 0, r.stderr
    assert cluster.get("configmap", "inferenceservice-config", "-n", NS)["data"]["ingress"] == ingress
    assert not cluster.exists("configmap", "fresh", "-n", NS)
    after = dump(cluster)
    diff = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert not diff, json.dumps({str(k): v for k, v in diff.items()}, indent=1)
    labels = {s["metadata"]["labels"]["revision"]: s["metadata"]["labels"]["status"]
              for s in cluster.get("secret", "-n", "kstage-system", "-l", "owner=kstage,name=rb-pruned")["items"]}
    assert labels == {"3": "uninstalled", "4": "uninstalled"}, labels
    # the origin was used: it is kept empty, so it is never put back twice
    _, rec3 = record(cluster, "rb-pruned", 3)
    assert rec3["origin"] == [], rec3["origin"]


def kill_at_patched_put(cluster, args, what):
    """Run kstage args; SIGKILL it while it puts back (PUT) the patched
    ConfigMap, which hangs; the rules are cleared after."""
    import os
    import signal
    import subprocess
    import time
    rule = cluster.fault("POST", "/rules", {"method": "PUT", "path": rf"/namespaces/{NS}/configmaps/patched$",
                                            "action": "hang"})
    e = dict(os.environ, XDG_CACHE_HOME=str(cluster.cache), SSL_CERT_FILE=cluster.env["KSTAGE_ARTIFACT_CA"])
    e.pop("KUBECONFIG", None)
    p = subprocess.Popen([cluster.bin, *args, "--kubeconfig", cluster.env["KSTAGE_KUBECONFIG"]],
                         env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 180
        while not [x for x in cluster.fault("GET", "/rules") if x["id"] == rule["id"] and x["matched"]]:
            assert time.time() < deadline and p.poll() is None, f"the {what} never reached the patched ConfigMap"
            time.sleep(0.2)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
        cluster.fault("DELETE", "/rules")


def test_kill_9_during_the_rollback_itself_then_recover_is_exact(cluster):
    """The last stage fails and the automatic rollback starts; it is killed
    (SIGKILL) while it puts back the patched ConfigMap, half done (objects of
    later stages already deleted or restored, the rest not yet). The record
    stays pending, the next apply is refused, and `rollback --recover`
    finishes from the journal: the cluster is exactly as before the run."""
    cluster.fault("DELETE", "/rules")
    setup(cluster)
    before = dump(cluster)
    b = bundle(cluster, "rb-kill-rollback")
    cluster.kubectl("delete", "lease", "kstage.rb-kill-rollback", "-n", "kstage-system", "--ignore-not-found")
    kill_at_patched_put(cluster, ["apply", b, "--force-conflicts"], "rollback")
    mid = dump(cluster)
    assert mid != before
    # half done: the later stages' objects are gone, the patched one is not back yet
    assert mid[("configmap", "never-ready")] is None and mid[("configmap", "fresh")] is None, mid
    assert mid[("configmap", "patched")]["data"]["mode"] == "green", mid[("configmap", "patched")]
    s, rec = record(cluster, "rb-kill-rollback", 1)
    assert s["metadata"]["labels"]["status"] == "pending", s["metadata"]["labels"]
    # the killed run's Lease would expire by itself; drop it to go on at once
    cluster.kubectl("delete", "lease", "kstage.rb-kill-rollback", "-n", "kstage-system")
    r = cluster.kstage("apply", b, "--force-conflicts")
    assert r.returncode == 1 and "kstage rollback --recover rb-kill-rollback" in r.stderr, r.stderr
    r = cluster.kstage("rollback", "--recover", "rb-kill-rollback")
    assert r.returncode == 0, r.stderr
    after = dump(cluster)
    diff = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert not diff, json.dumps({str(k): v for k, v in diff.items()}, indent=1)
    s, rec = record(cluster, "rb-kill-rollback", 1)
    assert rec["status"] == "rolled-back", rec["status"]


def test_kill_9_during_uninstall_then_uninstall_again_is_exact(cluster):
    """An uninstall is killed (SIGKILL) half way, while it puts back the
    patched ConfigMap; running uninstall again (once the killed run's Lease
    is gone) finishes it: the cluster is exactly as before the release's
    first revision, and the record says uninstalled."""
    import pathlib
    cluster.fault("DELETE", "/rules")
    setup(cluster)
    before = dump(cluster)
    b = bundle(cluster, "rb-kill-uninstall")
    cluster.kubectl("delete", "lease", "kstage.rb-kill-uninstall", "-n", "kstage-system", "--ignore-not-found")
    last = pathlib.Path(b) / "last" / "cm.yaml"
    last.write_text(last.read_text().replace("phase: Pending", "phase: Running"))
    r = cluster.kstage("apply", b, "--force-conflicts")
    assert r.returncode == 0, r.stderr
    kill_at_patched_put(cluster, ["uninstall", "rb-kill-uninstall"], "uninstall")
    mid = dump(cluster)
    assert mid != before and mid[("configmap", "never-ready")] is None, mid
    cluster.kubectl("delete", "lease", "kstage.rb-kill-uninstall", "-n", "kstage-system")
    r = cluster.kstage("uninstall", "rb-kill-uninstall")
    assert r.returncode == 0, r.stderr
    after = dump(cluster)
    diff = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert not diff, json.dumps({str(k): v for k, v in diff.items()}, indent=1)
    s, rec = record(cluster, "rb-kill-uninstall", 1)
    assert rec["status"] == "uninstalled", rec["status"]
