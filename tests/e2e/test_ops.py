"""The stage features the shipped bundle uses, against the test cluster and
checked with kubectl: lookup on the live cluster, rolloutRestart when:
changed, checks (with the limited user), outputs, test stages with
`kstage verify`, and --summary."""
import textwrap



def write_chart(cluster, name, version, templates):
    d = cluster.tmp / name
    (d / "templates").mkdir(parents=True, exist_ok=True)
    (d / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: {version}\n")
    (d / "values.yaml").write_text("{}\n")
    for rel, text in templates.items():
        (d / "templates" / rel).write_text(textwrap.dedent(text))
    return str(d)


PASSWORD_CHART = {
    # Bitnami's common.secrets.passwords.manage, reduced: reuse what exists
    "secret.yaml": """\
        {{- $old := lookup "v1" "Secret" .Release.Namespace "app-auth" }}
        apiVersion: v1
        kind: Secret
        metadata: {name: app-auth}
        type: Opaque
        data:
          {{- if and $old $old.data }}
          password: {{ index $old.data "password" }}
          {{- else }}
          password: {{ randAlphaNum 24 | b64enc }}
          {{- end }}
        """,
    "seen.yaml": """\
        {{- $pre := lookup "v1" "Secret" .Release.Namespace "pre-existing" }}
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: seen}
        data:
          uid: {{ dig "metadata" "uid" "none" $pre | quote }}
          kind: {{ $pre.kind | default "none" | quote }}
          names: {{ range (lookup "v1" "Secret" .Release.Namespace "").items }}{{ .metadata.name }},{{ end }}
        """,
}


def test_lookup_renders_live_objects_in_plan_and_apply_and_keeps_passwords(cluster):
    ns = "e2e-lookup"
    cluster.kubectl("create", "namespace", ns, check=False)
    cluster.kubectl("delete", "secret", "pre-existing", "app-auth", "-n", ns, "--ignore-not-found")
    cluster.kubectl("create", "secret", "generic", "pre-existing", "-n", ns, "--from-literal=token=hunter2-lookup-token")
    uid = cluster.get("secret", "pre-existing", "-n", ns)["metadata"]["uid"]
    chart = write_chart(cluster, "pw", "0.1.0", PASSWORD_CHART)
    # template stays offline, as helm template
    t = cluster.kstage("template", chart, "-n", ns)
    assert t.returncode == 0, t.stderr
    assert 'uid: "none"' in t.stdout
    # plan sees the Secret that exists
    p = cluster.kstage("plan", chart, "-n", ns, "-v")
    assert p.returncode == 0, p.stdout + p.stderr
    assert f'uid: {uid}' in p.stdout, p.stdout
    assert "hunter2-lookup-token" not in p.stdout + p.stderr
    r = cluster.kstage("apply", chart, "-n", ns)
    assert r.returncode == 0, r.stderr
    seen = cluster.get("configmap", "seen", "-n", ns)["data"]
    assert seen["uid"] == uid and seen["kind"] == "Secret", seen
    assert "pre-existing," in seen["names"], seen
    pw1 = cluster.get("secret", "app-auth", "-n", ns)["data"]["password"]
    # two upgrades keep the password (without lookup each would make a new one)
    for i in range(2):
        r = cluster.kstage("apply", chart, "-n", ns)
        assert r.returncode == 0, r.stderr
        assert cluster.get("secret", "app-auth", "-n", ns)["data"]["password"] == pw1
    assert "app-auth," in cluster.get("configmap", "seen", "-n", ns)["data"]["names"]


def test_lookup_forbidden_stops_the_run_naming_the_object(cluster):
    # the limited user may not read Secrets outside team-a
    b = cluster.bundle("lookup-forbidden", """\
        name: lookup-forbidden
        stages:
          - name: cm
            templates: [cm.yaml]
        """, {"templates/cm.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: lf}
        data:
          x: {{ (lookup "v1" "Secret" "kube-system" "nope").kind | default "none" | quote }}
        """})
    r = cluster.kstage("plan", b, kubeconfig=cluster.env["KSTAGE_LIMITED_KUBECONFIG"])
    assert r.returncode != 0
    assert "lookup v1 Secret/kube-system/nope" in r.stderr, r.stderr
    assert "forbidden" in r.stderr.lower(), r.stderr
    assert not cluster.exists("configmap", "lf", "-n", "team-a")


def restart_count(cluster, ns, name):
    rs = cluster.get("replicasets", "-n", ns, "-l", f"app={name}")["items"]
    return len(rs)


def test_rollout_restart_only_when_the_stage_changed(cluster):
    ns = "e2e-restart"
    cluster.kubectl("create", "namespace", ns, check=False)
    cluster.kubectl("apply", "-f", "-", input=textwrap.dedent(f"""\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {{name: ctl, namespace: {ns}}}
        spec:
          replicas: 1
          selector: {{matchLabels: {{app: ctl}}}}
          template:
            metadata: {{labels: {{app: ctl}}}}
            spec:
              containers: [{{name: c, image: example.com/ctl:1}}]
        """))
    b = cluster.bundle("restart", f"""\
        name: restart
        stages:
          - name: config
            namespace: {ns}
            templates: [cm.yaml]
            ops:
              - rolloutRestart: {{deployment: {ns}/ctl}}
            timeout: 2m
          - name: always
            ops:
              - rolloutRestart: {{deployment: {ns}/ctl, when: always}}
            enabled: "{{{{ .Values.always }}}}"
        """, {"templates/cm.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: ctl-config}
        data:
          level: {{ .Values.level | quote }}
        """, "values/values.yaml": "level: info\nalways: false\n"})

    def restarted_at():
        d = cluster.get("deployment", "ctl", "-n", ns)
        return (d["spec"]["template"]["metadata"].get("annotations") or {}).get("kubectl.kubernetes.io/restartedAt")

    r = cluster.kstage("apply", b)
    assert r.returncode == 0, r.stderr
    first = restarted_at()
    assert first, "the first apply creates the ConfigMap: the controller restarts"
    gen = cluster.get("deployment", "ctl", "-n", ns)["metadata"]["generation"]
    # nothing changed: the plan says no restart, the apply restarts nothing
    p = cluster.kstage("plan", b, "--detailed-exitcode", "-v")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "nothing in the stage changes, no restart" in p.stdout, p.stdout
    r = cluster.kstage("apply", b)
    assert r.returncode == 0, r.stderr
    assert "rolloutRestart: not restarted (nothing in the stage changed)" in r.stderr, r.stderr
    assert restarted_at() == first
    assert cluster.get("deployment", "ctl", "-n", ns)["metadata"]["generation"] == gen
    rs_before = restart_count(cluster, ns, "ctl")
    # a changed ConfigMap restarts once
    r = cluster.kstage("apply", b, "--set", "level=debug")
    assert r.returncode == 0, r.stderr
    assert restarted_at() != first
    assert cluster.get("deployment", "ctl", "-n", ns)["metadata"]["generation"] == gen + 1
    assert restart_count(cluster, ns, "ctl") == rs_before + 1
    # when: always restarts with nothing changed
    gen = cluster.get("deployment", "ctl", "-n", ns)["metadata"]["generation"]
    r = cluster.kstage("apply", b, "--set", "level=debug", "--set", "always=true")
    assert r.returncode == 0, r.stderr
    assert cluster.get("deployment", "ctl", "-n", ns)["metadata"]["generation"] == gen + 1
