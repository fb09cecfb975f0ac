"""Helm charts on a live cluster (issue 17): --create-namespace, NOTES.txt,
pruning and its rollback, checked with kubectl."""
import json
import textwrap


def make_chart(cluster, name, files, version="0.1.0", dirname=None):
    d = cluster.tmp / "charts" / (dirname or name)
    (d / "templates").mkdir(parents=True, exist_ok=True)
    (d / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: {version}\n")
    (d / "values.yaml").write_text(files.pop("values.yaml", "{}\n"))
    for rel, text in files.items():
        p = d / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return str(d)


PRUNE_FILES = {
    "values.yaml": "extra: true\nkept: true\n",
    "templates/main.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: main}
        data: {release: {{ .Release.Name | quote }}}
        """,
    "templates/extra.yaml": """\
        {{- if .Values.extra }}
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: extra}
        data: {a: "1"}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: extra}
        spec:
          ports: [{port: 80}]
        {{- end }}
        """,
    "templates/kept.yaml": """\
        {{- if .Values.kept }}
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: kept
          annotations: {helm.sh/resource-policy: keep}
        data: {a: "1"}
        {{- end }}
        """,
    "templates/NOTES.txt": """\
        Thank you for installing {{ .Chart.Name }} as {{ .Release.Name }} in {{ .Release.Namespace }}.
        """,
}


def fresh(cluster, release):
    """Forget the records of release left by an earlier run of this file."""
    cluster.kubectl("delete", "secrets", "-n", "kstage-system", "-l", f"owner=kstage,name={release}",
                    "--ignore-not-found", check=False)


def ns_gone(cluster, ns):
    import time
    for _ in range(120):
        if not cluster.exists("namespace", ns):
            return True
        time.sleep(1)
    return False


def test_create_namespace_notes_and_uninstall_removes_only_what_kstage_created(cluster):
    ns = "e2e-chart-newns"
    cluster.kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=true")
    fresh(cluster, "newns-rel")
    chart = make_chart(cluster, "newns", dict(PRUNE_FILES))
    # without the flag: the error names it, nothing is created
    r = cluster.kstage("apply", chart, "-n", ns, "--release", "newns-rel")
    assert r.returncode != 0
    assert "--create-namespace" in r.stderr, r.stderr
    assert f'namespaces "{ns}" not found' in r.stderr, r.stderr
    assert not cluster.exists("namespace", ns)
    # with it: created, the chart applied, NOTES printed after the summary
    r = cluster.kstage("apply", chart, "-n", ns, "--release", "newns-rel", "--create-namespace")
    assert r.returncode == 0, r.stderr
    assert cluster.get("namespace", ns)["status"]["phase"] == "Active"
    assert cluster.get("configmap", "main", "-n", ns)["data"] == {"release": "newns-rel"}  # --release is .Release.Name
    assert r.stdout == f"NOTES:\nThank you for installing newns as newns-rel in {ns}.\n", r.stdout
    # a second run: the namespace exists; --hide-notes; JSON gives an event
    r = cluster.kstage("apply", chart, "-n", ns, "--release", "newns-rel", "--create-namespace", "--hide-notes")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    r = cluster.kstage("apply", chart, "-n", ns, "--release", "newns-rel", "-o", "json")
    assert r.returncode == 0, r.stderr
    ev = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    notes = [e for e in ev if e.get("event") == "apply.notes"]
    assert len(notes) == 1 and notes[0]["notes"].startswith("Thank you for installing newns as newns-rel"), r.stdout
    # uninstall deletes the namespace kstage created
    r = cluster.kstage("uninstall", "newns-rel")
    assert r.returncode == 0, r.stderr
    assert ns_gone(cluster, ns)


def test_create_namespace_keeps_a_namespace_that_existed(cluster):
    ns = "e2e-chart-oldns"
    cluster.kubectl("create", "namespace", ns, check=False)
    cluster.kubectl("label", "namespace", ns, "owner=someone-else", "--overwrite")
    fresh(cluster, "oldns")
    chart = make_chart(cluster, "oldns", dict(PRUNE_FILES))
    r = cluster.kstage("apply", chart, "-n", ns, "--release", "oldns", "--create-namespace")
    assert r.returncode == 0, r.stderr
    r = cluster.kstage("uninstall", "oldns")
    assert r.returncode == 0, r.stderr
    assert not cluster.exists("configmap", "main", "-n", ns)
    got = cluster.get("namespace", ns)
    assert got["metadata"]["labels"]["owner"] == "someone-else"
    assert "deletionTimestamp" not in got["metadata"]


def test_prune_plan_keep_policy_and_rollback(cluster):
    ns = "e2e-chart-prune"
    cluster.kubectl("create", "namespace", ns, check=False)
    fresh(cluster, "prune")
    chart = make_chart(cluster, "prune", dict(PRUNE_FILES))
    r = cluster.kstage("apply", chart, "-n", ns, "--release", "prune")
    assert r.returncode == 0, r.stderr
    uid_main = cluster.get("configmap", "main", "-n", ns)["metadata"]["uid"]
    uid_extra = cluster.get("configmap", "extra", "-n", ns)["metadata"]["uid"]
    off = ["--set", "extra=false", "--set", "kept=false"]
    # plan shows the deletions, and keeps the policy-keep object
    p = cluster.kstage("plan", chart, "-n", ns, "--release", "prune", *off)
    assert p.returncode == 0, p.stderr
    assert f"- ConfigMap/{ns}/extra (deleted)" in p.stdout, p.stdout
    assert f"- Service/{ns}/extra (deleted)" in p.stdout, p.stdout
    assert "kept" not in p.stdout.replace("not pruned", ""), p.stdout
    assert "2 to delete" in p.stdout, p.stdout
    assert cluster.exists("configmap", "extra", "-n", ns)
    # apply prunes them: Service before ConfigMap (reverse install order)
    r = cluster.kstage("apply", chart, "-n", ns, "--release", "prune", *off)
    assert r.returncode == 0, r.stderr
    assert "2 pruned" in r.stderr, r.stderr
    assert r.stderr.index(f"Service/{ns}/extra: deleted") < r.stderr.index(f"ConfigMap/{ns}/extra: deleted"), r.stderr
    assert not cluster.exists("configmap", "extra", "-n", ns)
    assert not cluster.exists("service", "extra", "-n", ns)
    assert cluster.exists("configmap", "kept", "-n", ns)
    assert cluster.get("configmap", "main", "-n", ns)["metadata"]["uid"] == uid_main
    # nothing more to prune on the next plan
    p = cluster.kstage("plan", chart, "-n", ns, "--release", "prune", *off, "--detailed-exitcode")
    assert p.returncode == 0, p.stdout + p.stderr
    # rollback brings the pruned objects back (new uids: they were deleted)
    r = cluster.kstage("rollback", "prune")
    assert r.returncode == 0, r.stderr
    got = cluster.get("configmap", "extra", "-n", ns)
    assert got["data"] == {"a": "1"} and got["metadata"]["uid"] != uid_extra
    assert cluster.exists("service", "extra", "-n", ns)
    # and a later run without them prunes again, from the restored revision
    r = cluster.kstage("apply", chart, "-n", ns, "--release", "prune", *off)
    assert r.returncode == 0, r.stderr
    assert not cluster.exists("configmap", "extra", "-n", ns)
    r = cluster.kstage("uninstall", "prune")
    assert r.returncode == 0, r.stderr


def test_uninstall_and_rollback_keep_what_resource_policy_keeps(cluster):
    ns = "e2e-chart-policykeep"
    cluster.kubectl("create", "namespace", ns, check=False)
    cluster.kubectl("delete", "configmaps", "--all", "-n", ns, "--wait=true")
    fresh(cluster, "pkeep")
    chart = make_chart(cluster, "pkeep", dict(PRUNE_FILES))
    r = cluster.kstage("apply", chart, "-n", ns, "--release", "pkeep", "--set", "kept=false")
    assert r.returncode == 0, r.stderr
    r = cluster.kstage("apply", chart, "-n", ns, "--release", "pkeep")
    assert r.returncode == 0, r.stderr
    uid = cluster.get("configmap", "kept", "-n", ns)["metadata"]["uid"]
    # helm rollback deletes what the target does not render, but not an object so annotated
    r = cluster.kstage("rollback", "pkeep", "1")
    assert r.returncode == 0, r.stderr
    assert f"ConfigMap/{ns}/kept: kept (helm.sh/resource-policy: keep)" in r.stderr, r.stderr
    assert "1 kept" in r.stderr, r.stderr
    assert cluster.get("configmap", "kept", "-n", ns)["metadata"]["uid"] == uid
    assert cluster.exists("configmap", "extra", "-n", ns)   # rendered by revision 1 as well
    # uninstall deletes the rest and says what it kept (an object the release created:
    # the one left by the rollback is no longer the release's, as with Helm)
    cluster.kubectl("delete", "configmap", "kept", "-n", ns)
    r = cluster.kstage("apply", chart, "-n", ns, "--release", "pkeep")
    assert r.returncode == 0, r.stderr
    uid = cluster.get("configmap", "kept", "-n", ns)["metadata"]["uid"]
    r = cluster.kstage("uninstall", "pkeep")
    assert r.returncode == 0, r.stderr
    assert f"kept (CRDs, rollback: keep, helm.sh/resource-policy: keep):\nConfigMap/{ns}/kept" in r.stderr, r.stderr
    assert cluster.get("configmap", "kept", "-n", ns)["metadata"]["uid"] == uid
    assert not cluster.exists("configmap", "main", "-n", ns)
    assert not cluster.exists("configmap", "extra", "-n", ns)
    cluster.kubectl("delete", "configmap", "kept", "-n", ns)


def test_failed_stage_after_prune_candidates_deletes_nothing(cluster):
    """Pruning runs after the last stage: a run that fails earlier deletes
    nothing and rolls back."""
    ns = "e2e-chart-prunefail"
    cluster.kubectl("create", "namespace", ns, check=False)
    fresh(cluster, "prunefail")
    chart = make_chart(cluster, "prunefail", dict(PRUNE_FILES))
    r = cluster.kstage("apply", chart, "-n", ns, "--release", "prunefail")
    assert r.returncode == 0, r.stderr
    bad = make_chart(cluster, "prunefail", dirname="prunefail-bad", files=dict(PRUNE_FILES, **{"templates/bad.yaml": """\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: bad}
        spec:
          selector: {matchLabels: {app: bad}}
          template:
            metadata:
              labels: {app: bad}
              annotations: {kstage.test/fail: "boom"}
            spec:
              containers: [{name: c, image: x}]
        """}))
    r = cluster.kstage("apply", bad, "-n", ns, "--release", "prunefail", "--set", "extra=false", "--timeout", "5s")
    assert r.returncode == 1, r.stderr
    assert cluster.exists("configmap", "extra", "-n", ns)
    assert not cluster.exists("deployment", "bad", "-n", ns)
    r = cluster.kstage("uninstall", "prunefail")
    assert r.returncode == 0, r.stderr


def hook_cm(name, event, weight, policy=None):
    ann = f"helm.sh/hook: {event}\n    helm.sh/hook-weight: \"{weight}\""
    if policy:
        ann += f"\n    helm.sh/hook-delete-policy: {policy}"
    return f"""\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  annotations:
    {ann}
data: {{mode: {{{{ .Values.mode | quote }}}}}}
"""


def hook_job(name, event, weight, policy, when, fail_when):
    return f"""\
{{{{- if {when} }}}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
  annotations:
    helm.sh/hook: {event}
    helm.sh/hook-weight: "{weight}"
    helm.sh/hook-delete-policy: {policy}
spec:
  backoffLimit: 0
  template:
    metadata:
      annotations:
        {{{{- if {fail_when} }}}}
        kstage.test/fail: "check failed"
        kstage.test/log: "checking the schema\\nerror: connection refused"
        {{{{- end }}}}
    spec:
      restartPolicy: Never
      containers: [{{name: c, image: busybox}}]
{{{{- end }}}}
"""


HOOK_FILES = {
    "values.yaml": "mode: one\nfailHook: false\n",
    "templates/app.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: app}
        data: {mode: {{ .Values.mode | quote }}}
        """,
    "templates/pre-b.yaml": hook_cm("pre-b", "pre-install", 5),
    "templates/pre-a.yaml": hook_cm("pre-a", "pre-install", 5),
    "templates/pre-first.yaml": hook_cm("pre-first", "pre-install", -5),
    "templates/post.yaml": hook_cm("post", "post-install", 0),
    "templates/upgrade.yaml": hook_cm("upgrade-mark", "pre-upgrade", 0),
    "templates/deleting.yaml": hook_cm("deleting", "pre-delete", 0),
    "templates/rolled.yaml": hook_cm("rolled", "pre-rollback,post-rollback", 0, "hook-succeeded"),
    "templates/rolled-mark.yaml": hook_cm("rolled-mark", "post-rollback", 0),
    # a subchart's hooks run with the parent's, in one order (Helm renders them together)
    "charts/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 0.0.1\n",
    "charts/sub/values.yaml": "mode: sub\n",
    "charts/sub/templates/pre-c.yaml": hook_cm("pre-c", "pre-install", 5),
    "templates/migrate.yaml": hook_job("migrate", "pre-install,pre-upgrade", 0, "hook-succeeded", "true", "false"),
    "templates/check.yaml": hook_job("check", "post-upgrade", 0, "hook-failed", ".Values.failHook", "true"),
}


def rv(cluster, ns, name):
    return int(cluster.get("configmap", name, "-n", ns)["metadata"]["resourceVersion"])


def test_hooks_run_in_helm_order_with_delete_policies_and_a_failing_hook_rolls_back(cluster):
    ns = "e2e-chart-hooks"
    cluster.kubectl("create", "namespace", ns, check=False)
    fresh(cluster, "hooks")
    cluster.kubectl("delete", "jobs,configmaps", "--all", "-n", ns, "--wait=true")
    chart = make_chart(cluster, "hooks", dict(HOOK_FILES))
    r = cluster.kstage("apply", chart, "-n", ns, "--release", "hooks")
    assert r.returncode == 0, r.stderr
    # pre-install by weight then name, all before the chart's objects, post-install after
    order = [rv(cluster, ns, n) for n in ("pre-first", "pre-a", "pre-b", "pre-c", "app", "post")]
    assert order == sorted(order), order
    # the Job ran (weight 0: between pre-first and pre-a) and was deleted (hook-succeeded)
    assert "pre-install hook Job/e2e-chart-hooks/migrate: succeeded" in r.stderr, r.stderr
    assert r.stderr.index("ConfigMap/e2e-chart-hooks/pre-first: created") < \
        r.stderr.index("Job/e2e-chart-hooks/migrate: created") < \
        r.stderr.index("ConfigMap/e2e-chart-hooks/pre-a: created"), r.stderr
    assert not cluster.exists("job", "migrate", "-n", ns)
    assert not cluster.exists("configmap", "upgrade-mark", "-n", ns)
    assert not cluster.exists("configmap", "deleting", "-n", ns)
    post_uid = cluster.get("configmap", "post", "-n", ns)["metadata"]["uid"]
    pre_uid = cluster.get("configmap", "pre-a", "-n", ns)["metadata"]["uid"]
    # an upgrade runs pre-upgrade hooks, not the install ones
    r = cluster.kstage("apply", chart, "-n", ns, "--release", "hooks", "--set", "mode=two")
    assert r.returncode == 0, r.stderr
    assert cluster.get("configmap", "upgrade-mark", "-n", ns)["data"] == {"mode": "two"}
    assert cluster.get("configmap", "pre-a", "-n", ns)["metadata"]["uid"] == pre_uid
    assert cluster.get("configmap", "post", "-n", ns)["metadata"]["uid"] == post_uid
    assert "pre-upgrade hook Job/e2e-chart-hooks/migrate: succeeded" in r.stderr, r.stderr
    # before-hook-creation (the default) replaces the previous hook object
    mark_uid = cluster.get("configmap", "upgrade-mark", "-n", ns)["metadata"]["uid"]
    # a failing post-upgrade Job fails the run and rolls it back; hook-failed deletes it
    r = cluster.kstage("apply", chart, "-n", ns, "--release", "hooks", "--set", "mode=three",
                       "--set", "failHook=true", timeout=600)
    assert r.returncode == 1, r.stderr
    assert "post-upgrade hook Job/e2e-chart-hooks/check" in r.stderr and "failed" in r.stderr, r.stderr
    # the failed Job's pod log tail, read before hook-failed deleted the Job
    assert "post-upgrade hook Job/e2e-chart-hooks/check: last 50 log lines of pod check-" in r.stderr, r.stderr
    assert "error: connection refused" in r.stderr, r.stderr
    assert "rolled back" in r.stderr, r.stderr
    assert cluster.get("configmap", "app", "-n", ns)["data"] == {"mode": "two"}
    assert not cluster.exists("job", "check", "-n", ns)
    assert cluster.get("configmap", "upgrade-mark", "-n", ns)["metadata"]["uid"] != mark_uid
    # rollback runs the target revision's rollback hooks around the undo
    assert not cluster.exists("configmap", "rolled-mark", "-n", ns)
    r = cluster.kstage("rollback", "hooks", "1")
    assert r.returncode == 0, r.stderr
    assert cluster.get("configmap", "app", "-n", ns)["data"] == {"mode": "one"}
    assert cluster.get("configmap", "rolled-mark", "-n", ns)["data"] == {"mode": "one"}
    assert "pre-rollback hook ConfigMap/e2e-chart-hooks/rolled: created" in r.stderr, r.stderr
    assert "post-rollback hook ConfigMap/e2e-chart-hooks/rolled: created" in r.stderr, r.stderr
    assert not cluster.exists("configmap", "rolled", "-n", ns)   # hook-succeeded
    # uninstall runs the pre-delete hook of the revision in effect
    r = cluster.kstage("uninstall", "hooks")
    assert r.returncode == 0, r.stderr
    assert cluster.get("configmap", "deleting", "-n", ns)["data"] == {"mode": "one"}
    assert not cluster.exists("configmap", "app", "-n", ns)


def hook_test_pod(name, weight, policy=None, when="true", annotations="", restart="Never"):
    pol = f"\n    helm.sh/hook-delete-policy: {policy}" if policy else ""
    return f"""\
{{{{- if {when} }}}}
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  annotations:
    helm.sh/hook: test
    helm.sh/hook-weight: "{weight}"{pol}{annotations}
spec:
  restartPolicy: {restart}
  containers: [{{name: c, image: busybox}}]
{{{{- end }}}}
"""


TEST_FILES = {
    "values.yaml": "failTest: false\nrunningTest: false\n",
    "templates/app.yaml": """\
        apiVersion: v1
        kind: Secret
        metadata: {name: app-auth}
        stringData: {password: s3cr3t-pw-9d1}
        """,
    "templates/tests/ok.yaml": hook_test_pod("test-ok", 0, annotations="\n    kstage.test/log: ok-log-line"),
    "templates/tests/first.yaml": hook_test_pod("test-first", -1, "hook-succeeded"),
    "templates/tests/fail.yaml": hook_test_pod(
        "test-fail", 5, "hook-failed", ".Values.failTest",
        '\n    kstage.test/fail: "exit 1"\n    kstage.test/log: "connecting with s3cr3t-pw-9d1\\nERROR: boom"'),
    # Running and Ready, never Succeeded: not a passed test (Helm waits for Succeeded)
    "templates/tests/running.yaml": hook_test_pod("test-running", 7, when=".Values.runningTest", restart="Always"),
}


def test_verify_runs_the_chart_test_hooks_of_the_deployed_revision(cluster):
    ns = "e2e-chart-tests"
    cluster.kubectl("create", "namespace", ns, check=False)
    fresh(cluster, "tested")
    cluster.kubectl("delete", "pods,secrets", "--all", "-n", ns, "--wait=true")
    chart = make_chart(cluster, "tested", dict(TEST_FILES))
    # without a deployed revision there is nothing to test
    r = cluster.kstage("verify", chart, "-n", ns, "--release", "tested")
    assert r.returncode == 2, r.stderr
    assert "release tested has no deployed revision" in r.stderr, r.stderr
    r = cluster.kstage("apply", chart, "-n", ns, "--release", "tested")
    assert r.returncode == 0, r.stderr
    assert not cluster.exists("pod", "test-ok", "-n", ns)   # apply runs no test hook
    r = cluster.kstage("verify", chart, "-n", ns, "--release", "tested", "--logs")
    assert r.returncode == 0, r.stderr
    # by weight; a Pod counts when it has Succeeded; hook-succeeded deletes, the default keeps
    assert r.stderr.index(f"test hook Pod/{ns}/test-first: created") < \
        r.stderr.index(f"test hook Pod/{ns}/test-ok: created"), r.stderr
    assert f"test hook Pod/{ns}/test-ok: succeeded" in r.stderr, r.stderr
    assert "POD LOGS: test-ok (c)" in r.stderr and "ok-log-line" in r.stderr, r.stderr
    assert cluster.get("pod", "test-ok", "-n", ns)["status"]["phase"] == "Succeeded"
    assert not cluster.exists("pod", "test-first", "-n", ns)
    # a failing test: the run fails naming the pod, with its log tail, secrets masked;
    # hook-failed deletes it after its log was read
    r = cluster.kstage("apply", chart, "-n", ns, "--release", "tested", "--set", "failTest=true")
    assert r.returncode == 0, r.stderr
    r = cluster.kstage("verify", chart, "-n", ns, "--release", "tested")
    assert r.returncode == 1, r.stderr
    assert f"test hook Pod/{ns}/test-fail (release tested revision 2 hooks) failed" in r.stderr, r.stderr
    assert "pod failed: container c exited with 1 (Error)" in r.stderr, r.stderr
    assert "ERROR: boom" in r.stderr and "POD LOGS: test-fail (c)" in r.stderr, r.stderr
    assert "s3cr3t-pw-9d1" not in r.stderr and "connecting with <redacted>" in r.stderr, r.stderr
    assert not cluster.exists("pod", "test-fail", "-n", ns)
    # -o json: the failed pod's log is an event of its own
    r = cluster.kstage("verify", chart, "-n", ns, "--release", "tested", "-o", "json")
    assert r.returncode == 1, r.stderr
    logs = [json.loads(line) for line in r.stdout.splitlines() if '"hook.log"' in line]
    assert logs and logs[0]["pod"] == "test-fail" and "ERROR: boom" in logs[0]["log"], r.stdout
    # a test Pod that runs and is Ready but never Succeeds does not pass
    r = cluster.kstage("apply", chart, "-n", ns, "--release", "tested", "--set", "runningTest=true")
    assert r.returncode == 0, r.stderr
    r = cluster.kstage("verify", chart, "-n", ns, "--release", "tested", "--timeout", "8s")
    assert r.returncode == 1, r.stderr
    assert f"test hook Pod/{ns}/test-running" in r.stderr and "Succeeded" in r.stderr, r.stderr
    r = cluster.kstage("uninstall", "tested")
    assert r.returncode == 0, r.stderr


REUSE_FILES = {
    "values.yaml": "a: default-a\nb: default-b\nc: default-c\n",
    "templates/main.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: main}
        data: {a: {{ .Values.a | quote }}, b: {{ .Values.b | quote }}, c: {{ .Values.c | quote }}}
        """,
}


def test_reuse_values_keeps_what_the_last_revision_was_given(cluster):
    ns = "e2e-chart-reuse"
    cluster.kubectl("create", "namespace", ns, check=False)
    fresh(cluster, "reuse")
    chart = make_chart(cluster, "reuse", dict(REUSE_FILES))

    def data():
        return cluster.get("configmap", "main", "-n", ns)["data"]
    r = cluster.kstage("apply", chart, "-n", ns, "--release", "reuse", "--set", "a=install")
    assert r.returncode == 0, r.stderr
    assert data() == {"a": "install", "b": "default-b", "c": "default-c"}
    # without the flag a run's values are its own (a goes back to the default): plan says so
    p = cluster.kstage("plan", chart, "-n", ns, "--release", "reuse", "--set", "b=two")
    assert f"~ ConfigMap/{ns}/main (changed)" in p.stdout and "+  a: default-a" in p.stdout, p.stdout
    p = cluster.kstage("plan", chart, "-n", ns, "--release", "reuse", "--reuse-values")
    assert p.returncode == 0 and "0 to change" in p.stdout, p.stdout + p.stderr
    r = cluster.kstage("apply", chart, "-n", ns, "--release", "reuse", "--reuse-values", "--set", "b=two")
    assert r.returncode == 0, r.stderr
    assert "values: this run's over those of revision 1 of release reuse (--reuse-values)" in r.stderr, r.stderr
    assert data() == {"a": "install", "b": "two", "c": "default-c"}
    r = cluster.kstage("apply", chart, "-n", ns, "--release", "reuse", "--reset-then-reuse-values", "--set", "c=three")
    assert r.returncode == 0, r.stderr
    assert data() == {"a": "install", "b": "two", "c": "three"}
    # --reset-values wins over --reuse-values: only this run's values over the chart's
    r = cluster.kstage("apply", chart, "-n", ns, "--release", "reuse", "--reuse-values", "--reset-values",
                       "--set", "c=x")
    assert r.returncode == 0, r.stderr
    assert data() == {"a": "default-a", "b": "default-b", "c": "x"}
    r = cluster.kstage("uninstall", "reuse")
    assert r.returncode == 0, r.stderr


HELM = str(__import__("pathlib").Path(__file__).resolve().parents[2] / "build" / "tools" / "bin" / "helm")


def helm(cluster, *args, check=True):
    import os
    import subprocess
    home = cluster.tmp / "helm-home"
    home.mkdir(exist_ok=True)
    env = dict(os.environ, HOME=str(home), HELM_CACHE_HOME=str(home / "cache"),
               HELM_CONFIG_HOME=str(home / "config"), HELM_DATA_HOME=str(home / "data"))
    env.pop("KUBECONFIG", None)
    r = subprocess.run([HELM, *args, "--kubeconfig", cluster.env["KSTAGE_DIRECT_KUBECONFIG"]],
                       capture_output=True, text=True, env=env, timeout=300)
    if check:
        assert r.returncode == 0, f"helm {' '.join(args)}: {r.stdout}{r.stderr}"
    return r


TAKEOVER_V1 = {
    "values.yaml": "level: one\n",
    "templates/main.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: main
          labels: {app.kubernetes.io/managed-by: {{ .Release.Service }}}
        data: {level: {{ .Values.level | quote }}, chart: {{ .Chart.Version | quote }}}
        """,
    "templates/dropped.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: dropped}
        data: {a: "1"}
        """,
    "templates/svc.yaml": """\
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec:
          ports: [{port: 80, targetPort: 8080}]
        """,
}


def helm_installed(cluster, name, ns):
    """Charts v1 and v2 of name; v1 installed by helm as release name in ns,
    nothing left of an earlier run."""
    cluster.kubectl("create", "namespace", ns, check=False)
    helm(cluster, "uninstall", name, "-n", ns, check=False)
    fresh(cluster, name)
    v1 = make_chart(cluster, name, dict(TAKEOVER_V1), version="0.1.0", dirname=name + "-v1")
    v2_files = dict(TAKEOVER_V1)
    del v2_files["templates/dropped.yaml"]
    v2_files["templates/bye.yaml"] = hook_cm("bye", "pre-delete", 3, "hook-succeeded")
    v2 = make_chart(cluster, name, v2_files, version="0.2.0", dirname=name + "-v2")
    helm(cluster, "install", name, v1, "-n", ns, "--wait")
    return v1, v2


def test_takeover_of_a_helm_release_with_helm_record_and_helm_rollback(cluster):
    ns = "e2e-chart-takeover"
    _, v2 = helm_installed(cluster, "tko", ns)
    before = {n: cluster.get("configmap", n, "-n", ns) for n in ("main", "dropped")}
    svc_uid = cluster.get("service", "web", "-n", ns)["metadata"]["uid"]
    assert before["main"]["metadata"]["annotations"]["meta.helm.sh/release-name"] == "tko"
    # plan starts from Helm's record: the dropped object is a deletion
    p = cluster.kstage("plan", v2, "-n", ns, "--release", "tko", "--set", "level=two")
    assert p.returncode == 0, p.stderr
    assert f"- ConfigMap/{ns}/dropped (deleted)" in p.stdout, p.stdout
    assert f"~ ConfigMap/{ns}/main (changed)" in p.stdout, p.stdout
    assert "1 to delete" in p.stdout, p.stdout
    r = cluster.kstage("apply", v2, "-n", ns, "--release", "tko", "--set", "level=two", "--helm-record")
    assert r.returncode == 0, r.stderr
    assert "taking over Helm release e2e-chart-takeover/tko revision 1" in r.stderr, r.stderr
    main = cluster.get("configmap", "main", "-n", ns)
    # adopted in place: same uid, new content, Helm's label and annotations kept
    assert main["metadata"]["uid"] == before["main"]["metadata"]["uid"]
    assert main["data"] == {"level": "two", "chart": "0.2.0"}
    assert main["metadata"]["annotations"]["meta.helm.sh/release-name"] == "tko"
    assert main["metadata"]["annotations"]["meta.helm.sh/release-namespace"] == ns
    assert main["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
    assert cluster.get("service", "web", "-n", ns)["metadata"]["uid"] == svc_uid
    # the object the newer chart dropped is pruned
    assert not cluster.exists("configmap", "dropped", "-n", ns)
    # Helm's history and status tell the truth
    hist = json.loads(helm(cluster, "history", "tko", "-n", ns, "-o", "json").stdout)
    assert [(h["revision"], h["status"], h["chart"]) for h in hist] == [
        (1, "superseded", "tko-0.1.0"), (2, "deployed", "tko-0.2.0")], hist
    st = helm(cluster, "status", "tko", "-n", ns, "-o", "json")
    assert json.loads(st.stdout)["version"] == 2
    vals = json.loads(helm(cluster, "get", "values", "tko", "-n", ns, "-o", "json").stdout)
    assert vals == {"level": "two"}
    hooks = helm(cluster, "get", "hooks", "tko", "-n", ns).stdout
    assert "name: bye" in hooks and "helm.sh/hook: pre-delete" in hooks, hooks
    # and helm rollback to Helm's revision works afterwards
    helm(cluster, "rollback", "tko", "1", "-n", ns, "--wait")
    main = cluster.get("configmap", "main", "-n", ns)
    assert main["data"] == {"level": "one", "chart": "0.1.0"}, main["data"]
    assert cluster.get("configmap", "dropped", "-n", ns)["data"] == {"a": "1"}
    hist = json.loads(helm(cluster, "history", "tko", "-n", ns, "-o", "json").stdout)
    assert hist[-1]["revision"] == 3 and hist[-1]["status"] == "deployed", hist
    helm(cluster, "uninstall", "tko", "-n", ns)


def test_takeover_without_helm_record_says_helm_is_stale(cluster):
    ns = "e2e-chart-stale"
    _, v2 = helm_installed(cluster, "stale", ns)
    uid = cluster.get("configmap", "main", "-n", ns)["metadata"]["uid"]
    r = cluster.kstage("apply", v2, "-n", ns, "--release", "stale")
    assert r.returncode == 0, r.stderr
    assert "Helm's record of release e2e-chart-stale/stale is now stale" in r.stderr, r.stderr
    assert "--helm-record" in r.stderr
    assert cluster.get("configmap", "main", "-n", ns)["metadata"]["uid"] == uid
    assert not cluster.exists("configmap", "dropped", "-n", ns)
    hist = json.loads(helm(cluster, "history", "stale", "-n", ns, "-o", "json").stdout)
    assert [(h["revision"], h["status"]) for h in hist] == [(1, "deployed")]
    r = cluster.kstage("uninstall", "stale")
    assert r.returncode == 0, r.stderr


SBS_FILES = {
    "values.yaml": "replicas: 1\ngreeting: hello\nextra: true\nimage: {repository: nginx, tag: \"1.27\"}\n",
    "templates/_helpers.tpl": """\
        {{- define "sbs.labels" -}}
        app.kubernetes.io/name: {{ .Chart.Name }}
        app.kubernetes.io/instance: {{ .Release.Name }}
        app.kubernetes.io/managed-by: {{ .Release.Service }}
        helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
        {{- end }}
        """,
    "templates/all.yaml": """\
        apiVersion: v1
        kind: ServiceAccount
        metadata:
          name: {{ .Release.Name }}
          labels: {{- include "sbs.labels" . | nindent 4 }}
        ---
        apiVersion: v1
        kind: Secret
        metadata:
          name: {{ .Release.Name }}-creds
          labels: {{- include "sbs.labels" . | nindent 4 }}
        stringData:
          token: {{ printf "%s-%s" .Release.Name .Release.Namespace | sha256sum | quote }}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {{ .Release.Name }}-config
          labels: {{- include "sbs.labels" . | nindent 4 }}
        data:
          greeting: {{ .Values.greeting | quote }}
          revision-kind: {{ if .Release.IsUpgrade }}upgrade{{ else }}install{{ end }}
        {{- if .Values.extra }}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {{ .Release.Name }}-extra
          labels: {{- include "sbs.labels" . | nindent 4 }}
        data: {x: "1"}
        {{- end }}
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: {{ .Release.Name }}
          labels: {{- include "sbs.labels" . | nindent 4 }}
        spec:
          selector: {app.kubernetes.io/instance: {{ .Release.Name }}}
          ports: [{name: http, port: 80, targetPort: 8080}]
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{ .Release.Name }}
          labels: {{- include "sbs.labels" . | nindent 4 }}
        spec:
          replicas: {{ .Values.replicas }}
          selector:
            matchLabels: {app.kubernetes.io/instance: {{ .Release.Name }}}
          template:
            metadata:
              labels: {app.kubernetes.io/instance: {{ .Release.Name }}}
              annotations: {checksum/config: {{ .Values.greeting | sha256sum | quote }}}
            spec:
              serviceAccountName: {{ .Release.Name }}
              containers:
                - name: web
                  image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
                  ports: [{containerPort: 8080}]
        """,
}

SERVER_SET = ("uid", "resourceVersion", "creationTimestamp", "managedFields", "generation", "namespace")
HELM_BOOKKEEPING = ("meta.helm.sh/release-name", "meta.helm.sh/release-namespace",
                    "deployment.kubernetes.io/revision")


def dump(cluster, ns):
    """Every object of the chart's kinds in ns, server-set fields aside."""
    out = {}
    for kind in ("serviceaccounts", "secrets", "configmaps", "services", "deployments"):
        for o in cluster.get(kind, "-n", ns)["items"]:
            md = o["metadata"]
            if md["name"] == "kube-root-ca.crt" or md["name"].startswith("sh.helm."):
                continue
            for k in SERVER_SET:
                md.pop(k, None)
            for k in HELM_BOOKKEEPING:
                md.get("annotations", {}).pop(k, None)
            if not md.get("annotations"):
                md.pop("annotations", None)
            o.pop("status", None)
            if kind == "services":
                for k in ("clusterIP", "clusterIPs"):
                    o["spec"].pop(k, None)
            if kind == "secrets":
                # the token is derived from the namespace: compare its presence
                o["data"] = sorted(o.get("data", {}))
            out[(o["kind"], md["name"])] = o
    return out


def test_side_by_side_with_helm_upgrade_install(cluster):
    """The same chart and values through `helm upgrade --install` and through
    kstage leave the same objects and content (namespaces apart)."""
    h_ns, k_ns = "e2e-sbs-helm", "e2e-sbs-kstage"
    for ns in (h_ns, k_ns):
        cluster.kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=true")
        cluster.kubectl("create", "namespace", ns)
    helm(cluster, "uninstall", "sbs", "-n", h_ns, check=False)
    fresh(cluster, "sbs")
    chart = make_chart(cluster, "sbs", dict(SBS_FILES), version="1.2.3")
    for values in ([], ["--set", "replicas=2", "--set", "greeting=hi", "--set", "extra=false"]):
        helm(cluster, "upgrade", "--install", "sbs", chart, "-n", h_ns, "--wait", *values)
        r = cluster.kstage("apply", chart, "-n", k_ns, "--release", "sbs", *values)
        assert r.returncode == 0, r.stderr
        h, k = dump(cluster, h_ns), dump(cluster, k_ns)
        assert sorted(h) == sorted(k), (sorted(h), sorted(k))
        for key in h:
            assert h[key] == k[key], (key, h[key], k[key])
    assert ("ConfigMap", "sbs-extra") not in k
    assert k[("ConfigMap", "sbs-config")]["data"]["revision-kind"] == "upgrade"
    helm(cluster, "uninstall", "sbs", "-n", h_ns)
    r = cluster.kstage("uninstall", "sbs")
    assert r.returncode == 0, r.stderr


def test_takeover_with_reuse_values_starts_from_helms_config(cluster):
    ns = "e2e-chart-tkreuse"
    name = "tkreuse"
    cluster.kubectl("create", "namespace", ns, check=False)
    helm(cluster, "uninstall", name, "-n", ns, check=False)
    fresh(cluster, name)
    v1 = make_chart(cluster, name, dict(TAKEOVER_V1), version="0.1.0", dirname=name + "-v1")
    helm(cluster, "install", name, v1, "-n", ns, "--set", "level=from-helm", "--wait")
    r = cluster.kstage("apply", v1, "-n", ns, "--release", name, "--reuse-values")
    assert r.returncode == 0, r.stderr
    assert f"those of Helm's revision 1 of release {name}" in r.stderr, r.stderr
    assert cluster.get("configmap", "main", "-n", ns)["data"]["level"] == "from-helm"
    r = cluster.kstage("uninstall", name)
    assert r.returncode == 0, r.stderr
    helm(cluster, "uninstall", name, "-n", ns, check=False)


def test_a_helm_upgrade_after_kstage_is_where_the_next_run_starts(cluster):
    ns = "e2e-chart-helmnewer"
    name = "hnewer"
    cluster.kubectl("create", "namespace", ns, check=False)
    helm(cluster, "uninstall", name, "-n", ns, check=False)
    fresh(cluster, name)
    v1 = make_chart(cluster, name, dict(TAKEOVER_V1), version="0.1.0", dirname=name + "-v1")
    v3_files = dict(TAKEOVER_V1)
    v3_files["templates/helm-only.yaml"] = """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: helm-only}
        data: {a: "1"}
        """
    v3 = make_chart(cluster, name, v3_files, version="0.3.0", dirname=name + "-v3")
    helm(cluster, "install", name, v1, "-n", ns, "--wait")
    r = cluster.kstage("apply", v1, "-n", ns, "--release", name, "--helm-record")
    assert r.returncode == 0, r.stderr
    # a user runs helm upgrade after kstage: Helm's revision 3 is newer than kstage's revision 1
    helm(cluster, "upgrade", name, v3, "-n", ns, "--set", "level=helm-up", "--wait")
    assert cluster.exists("configmap", "helm-only", "-n", ns)
    p = cluster.kstage("plan", v1, "-n", ns, "--release", name, "--reuse-values")
    assert p.returncode == 0, p.stderr
    assert f"- ConfigMap/{ns}/helm-only (deleted)" in p.stdout, p.stdout
    r = cluster.kstage("apply", v1, "-n", ns, "--release", name, "--reuse-values", "--helm-record")
    assert r.returncode == 0, r.stderr
    assert f"Helm's revision 3 of release {ns}/{name} (Upgrade complete" in r.stderr, r.stderr
    assert "is newer than kstage's revision 1" in r.stderr, r.stderr
    # what Helm deployed is the starting point: its values reused, its extra object pruned
    assert cluster.get("configmap", "main", "-n", ns)["data"] == {"level": "helm-up", "chart": "0.1.0"}
    assert not cluster.exists("configmap", "helm-only", "-n", ns)
    hist = json.loads(helm(cluster, "history", name, "-n", ns, "-o", "json").stdout)
    assert [(h["revision"], h["status"]) for h in hist][-1] == (4, "deployed"), hist
    # Helm's revision 4 is kstage's own: the next run starts from kstage's record again
    r = cluster.kstage("apply", v1, "-n", ns, "--release", name, "--reuse-values", "--helm-record")
    assert r.returncode == 0, r.stderr
    assert "is newer than" not in r.stderr, r.stderr
    assert cluster.get("configmap", "main", "-n", ns)["data"]["level"] == "helm-up"
    r = cluster.kstage("uninstall", name)
    assert r.returncode == 0, r.stderr
    helm(cluster, "uninstall", name, "-n", ns, check=False)


def test_a_bundle_stage_as_a_hook_of_another(cluster):
    ns = "e2e-stage-hooks"
    cluster.kubectl("create", "namespace", ns, check=False)
    cluster.kubectl("delete", "configmaps", "--all", "-n", ns, "--wait=true")
    fresh(cluster, "stagehooks")
    cm = """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {{name: {name}}}
        data: {{mode: {{{{ .Values.mode | quote }}}}}}
        """
    b = cluster.bundle("stagehooks", f"""\
        name: stagehooks
        stages:
          - name: after
            templates: [after.yaml]
            namespace: {ns}
            hook: {{of: app, when: post, events: [upgrade]}}
          - name: app
            templates: [app.yaml]
            namespace: {ns}
          - name: before
            templates: [before.yaml]
            namespace: {ns}
            hook: {{of: app, when: pre, events: [install]}}
        """, {"values/values.yaml": "mode: one\n", "templates/app.yaml": cm.format(name="app"),
              "templates/before.yaml": cm.format(name="before"), "templates/after.yaml": cm.format(name="after")})
    r = cluster.kstage("apply", b)
    assert r.returncode == 0, r.stderr
    # install: the pre hook before app (wherever the file puts it); the upgrade-only post hook not run
    assert rv(cluster, ns, "before") < rv(cluster, ns, "app")
    assert not cluster.exists("configmap", "after", "-n", ns)
    assert "stage after: not run (a hook of stage app on upgrade, this run is an install)" in r.stderr, r.stderr
    before_rv = rv(cluster, ns, "before")
    r = cluster.kstage("apply", b, "--set", "mode=two")
    assert r.returncode == 0, r.stderr
    # upgrade: the post hook after app; the install-only pre hook not run, its object left as it was
    assert cluster.get("configmap", "app", "-n", ns)["data"] == {"mode": "two"}
    assert rv(cluster, ns, "app") < rv(cluster, ns, "after")
    assert cluster.get("configmap", "before", "-n", ns)["data"] == {"mode": "one"}
    assert rv(cluster, ns, "before") == before_rv
    assert r.stderr.index("stage app: ready") < r.stderr.index("stage after: 1 object"), r.stderr
    r = cluster.kstage("uninstall", "stagehooks")
    assert r.returncode == 0, r.stderr
    for n in ("app", "after", "before"):
        assert not cluster.exists("configmap", n, "-n", ns), n


def test_verify_runs_the_test_hooks_of_a_release_helm_holds(cluster):
    ns = "e2e-chart-helmtests"
    name = "htested"
    cluster.kubectl("create", "namespace", ns, check=False)
    helm(cluster, "uninstall", name, "-n", ns, check=False)
    fresh(cluster, name)
    chart = make_chart(cluster, name, dict(TEST_FILES), dirname=name)
    helm(cluster, "install", name, chart, "-n", ns, "--set", "failTest=true", "--wait")
    r = cluster.kstage("verify", chart, "-n", ns, "--release", name)
    assert r.returncode == 1, r.stderr
    assert f"the test hooks of Helm's revision 1 ({ns}/sh.helm.release.v1.{name}.v1) run" in r.stderr, r.stderr
    assert f"test hook Pod/{ns}/test-ok: succeeded" in r.stderr, r.stderr
    assert f"test hook Pod/{ns}/test-fail" in r.stderr and "ERROR: boom" in r.stderr, r.stderr
    assert "s3cr3t-pw-9d1" not in r.stderr, r.stderr   # Helm's manifest's Secret, masked
    assert cluster.get("pod", "test-ok", "-n", ns)["status"]["phase"] == "Succeeded"
    helm(cluster, "uninstall", name, "-n", ns, check=False)
