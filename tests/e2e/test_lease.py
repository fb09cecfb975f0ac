"""One kstage apply at a time per release, through kstage itself: a second run
fails at once naming the holder, or waits with --wait-for-lock; a Lease left by
a killed run is taken over once it has expired. Checked with kubectl."""
import datetime
import json
import os
import signal
import subprocess
import time

from test_rollback import record

NS = "e2e-lease"
# the apply of the bundle's one object stalls 20 s (then the proxy resets it and
# kstage retries): well within the Lease's 60 s
HANG = {"method": "PATCH", "path": r"/namespaces/e2e-lease/configmaps/held$", "action": "hang", "hangMs": 20000,
        "times": 1}


def lease_bundle(cluster, name):
    cluster.kubectl("create", "namespace", NS, check=False)
    cluster.kubectl("delete", "configmap", "held", "-n", NS, "--ignore-not-found", "--wait=true")
    cluster.kubectl("delete", "secret", "-n", "kstage-system", "-l", f"owner=kstage,name={name}",
                    "--ignore-not-found", check=False)
    cluster.kubectl("delete", "lease", f"kstage.{name}", "-n", "kstage-system", "--ignore-not-found")
    return cluster.bundle(name, f"""\
        name: {name}
        stages:
          - name: one
            source: {{path: cm.yaml}}
        """, {"cm.yaml": f"""\
            apiVersion: v1
            kind: ConfigMap
            metadata: {{name: held, namespace: {NS}}}
            data: {{a: b}}
            """})


def start(cluster, *args, verb="apply", env=None):
    e = dict(os.environ, XDG_CACHE_HOME=str(cluster.cache), SSL_CERT_FILE=cluster.env["KSTAGE_ARTIFACT_CA"],
             NO_COLOR="1", **(env or {}))
    e.pop("KUBECONFIG", None)
    return subprocess.Popen([cluster.bin, verb, *args, "--kubeconfig", cluster.env["KSTAGE_KUBECONFIG"]],
                            env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_for_hang(cluster, rule, p):
    deadline = time.time() + 120
    while not [x for x in cluster.fault("GET", "/rules") if x["id"] == rule["id"] and x["matched"]]:
        assert time.time() < deadline and p.poll() is None, "the run never reached its apply"
        time.sleep(0.2)


def kill_at_hang(cluster, rule, p):
    """SIGKILL the run p once it reached rule (or failed to); clear the rules."""
    try:
        wait_for_hang(cluster, rule, p)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
        cluster.fault("DELETE", "/rules")


def test_two_concurrent_applies_one_proceeds_the_other_names_the_holder_or_waits(cluster):
    cluster.fault("DELETE", "/rules")
    b = lease_bundle(cluster, "lease-two")
    rule = cluster.fault("POST", "/rules", HANG)
    first = start(cluster, b)
    try:
        wait_for_hang(cluster, rule, first)
        holder = cluster.get("lease", "kstage.lease-two", "-n", "kstage-system")["spec"]["holderIdentity"]
        assert f"pid {first.pid}" in holder, holder
        r = cluster.kstage("apply", b)
        assert r.returncode != 0, r.stderr
        assert holder in r.stderr, r.stderr
        waiter = start(cluster, b, "--wait-for-lock", "180s")
        time.sleep(2)
        assert waiter.poll() is None, "a run with --wait-for-lock waits for the holder"
        _, err = first.communicate(timeout=180)
        assert first.returncode == 0, err
        _, err = waiter.communicate(timeout=180)
        assert waiter.returncode == 0, err
    finally:
        cluster.fault("DELETE", "/rules")
        for p in (first,):
            if p.poll() is None:
                p.kill()
                p.wait()
    assert cluster.get("configmap", "held", "-n", NS)["data"] == {"a": "b"}
    labels = sorted((s["metadata"]["labels"]["revision"], s["metadata"]["labels"]["status"])
                    for s in cluster.get("secret", "-n", "kstage-system", "-l", "owner=kstage,name=lease-two")["items"])
    assert labels == [("1", "superseded"), ("2", "deployed")], labels
    assert not cluster.exists("lease", "kstage.lease-two", "-n", "kstage-system")


def test_an_expired_lease_of_a_killed_run_is_taken_over_and_recorded(cluster):
    cluster.fault("DELETE", "/rules")
    b = lease_bundle(cluster, "lease-expired")
    # the run is killed while its first stage reads what is live: nothing changed yet
    rule = cluster.fault("POST", "/rules", {"method": "GET", "path": r"/namespaces/e2e-lease/configmaps$",
                                            "action": "hang", "hangMs": 120000})
    p = start(cluster, b)
    kill_at_hang(cluster, rule, p)
    lease = cluster.get("lease", "kstage.lease-expired", "-n", "kstage-system")
    holder = lease["spec"]["holderIdentity"]
    assert f"pid {p.pid}" in holder, holder
    # while it is fresh, a new run is refused, naming the killed holder
    r = cluster.kstage("apply", b)
    assert r.returncode != 0 and holder in r.stderr, r.stderr
    # its renewTime an hour ago: expired
    old = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    cluster.kubectl("patch", "lease", "kstage.lease-expired", "-n", "kstage-system", "--type=merge",
                    "-p", '{"spec":{"renewTime":"%s"}}' % old)
    r = cluster.kstage("apply", b)
    assert r.returncode == 0, r.stderr
    assert "took over the release lock from an expired holder" in r.stderr, r.stderr
    assert holder in r.stderr, r.stderr
    s, rec = record(cluster, "lease-expired", 1)
    assert rec["takeover"] == holder, rec.get("takeover")
    assert cluster.get("configmap", "held", "-n", NS)["data"] == {"a": "b"}
    assert not cluster.exists("lease", "kstage.lease-expired", "-n", "kstage-system")


# a Lease of 3 s (the test switch): renewed every second, expired after 3
SHORT = {"KSTAGE_LEASE_SECONDS": "3"}


def test_uninstall_keeps_the_lease_while_a_deletion_waits_for_many_lease_durations(cluster):
    """The object uninstall deletes is held by a finalizer for ~5 Lease
    durations: the Lease is renewed throughout, by the same holder, so a
    second run is still refused; the uninstall ends once the object goes."""
    cluster.fault("DELETE", "/rules")
    b = lease_bundle(cluster, "lease-uninstall")
    r = cluster.kstage("apply", b, env=SHORT)
    assert r.returncode == 0, r.stderr
    cluster.kubectl("patch", "configmap", "held", "-n", NS, "--type=merge",
                    "-p", '{"metadata":{"finalizers":["e2e.kstage.dev/hold"]}}')
    p = start(cluster, "lease-uninstall", verb="uninstall", env=SHORT)
    try:
        deadline = time.time() + 120
        while not cluster.get("configmap", "held", "-n", NS)["metadata"].get("deletionTimestamp"):
            assert time.time() < deadline and p.poll() is None, "uninstall never deleted the object"
            time.sleep(0.3)
        seen = []
        t0 = time.time()
        while time.time() - t0 < 15:
            spec = cluster.get("lease", "kstage.lease-uninstall", "-n", "kstage-system")["spec"]
            seen.append((spec["holderIdentity"], spec["renewTime"], spec["leaseDurationSeconds"]))
            assert p.poll() is None, p.stderr.read()
            time.sleep(1)
        holders = {h for h, _, _ in seen}
        assert holders == {next(iter(holders))} and f"pid {p.pid}" in next(iter(holders)), holders
        assert {d for _, _, d in seen} == {3}, seen
        renewals = sorted({t for _, t, _ in seen})
        # 15 s is five Lease durations: renewed about every second
        assert len(renewals) >= 5, seen
        # the Lease never lapsed: a second run is refused, naming the holder
        r = cluster.kstage("apply", b, env=SHORT)
        assert r.returncode != 0 and next(iter(holders)) in r.stderr, r.stderr
    finally:
        cluster.kubectl("patch", "configmap", "held", "-n", NS, "--type=merge", "-p", '{"metadata":{"finalizers":null}}',
                        check=False)
    _, err = p.communicate(timeout=180)
    assert p.returncode == 0, err
    assert not cluster.exists("configmap", "held", "-n", NS)
    assert not cluster.exists("lease", "kstage.lease-uninstall", "-n", "kstage-system")


def test_a_run_whose_lease_was_taken_while_a_request_stalled_stops_and_says_so(cluster):
    """Every attempt of the apply's one request stalls (each cut at the
    Lease's 3 s); meanwhile another holder takes the Lease, and the
    renewer's next renewal finds it gone. The run does not go on without
    it: it sends nothing more, names the holder, exits 3 and leaves its
    record pending for rollback --recover, which then puts the cluster back."""
    cluster.fault("DELETE", "/rules")
    b = lease_bundle(cluster, "lease-lost")
    rule = cluster.fault("POST", "/rules", {k: v for k, v in HANG.items() if k not in ("hangMs", "times")})
    p = start(cluster, b, env=SHORT)
    try:
        wait_for_hang(cluster, rule, p)
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        cluster.kubectl("patch", "lease", "kstage.lease-lost", "-n", "kstage-system", "--type=merge",
                        "-p", '{"spec":{"holderIdentity":"e2e intruder","renewTime":"%s","leaseDurationSeconds":600}}'
                        % now)
        _, err = p.communicate(timeout=180)
    finally:
        cluster.fault("DELETE", "/rules")
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 3, err
    assert "was taken over by e2e intruder" in err, err
    assert "stays pending" in err and "kstage rollback --recover lease-lost" in err, err
    # the intruder's Lease is left alone, the record stays pending
    assert cluster.get("lease", "kstage.lease-lost", "-n", "kstage-system")["spec"]["holderIdentity"] == "e2e intruder"
    s, rec = record(cluster, "lease-lost", 1)
    assert s["metadata"]["labels"]["status"] == "pending", s["metadata"]["labels"]
    cluster.kubectl("delete", "lease", "kstage.lease-lost", "-n", "kstage-system")
    r = cluster.kstage("rollback", "--recover", "lease-lost")
    assert r.returncode == 0, r.stderr
    assert not cluster.exists("configmap", "held", "-n", NS)


def slow_bundle(cluster, name, n):
    """One stage whose one kind group is n ConfigMaps slow-0 .. slow-N-1."""
    cluster.kubectl("create", "namespace", NS, check=False)
    cluster.kubectl("delete", "configmap", "-n", NS, "-l", "e2e-lease=slow", "--ignore-not-found", "--wait=true")
    cluster.kubectl("delete", "secret", "-n", "kstage-system", "-l", f"owner=kstage,name={name}",
                    "--ignore-not-found", check=False)
    cluster.kubectl("delete", "lease", f"kstage.{name}", "-n", "kstage-system", "--ignore-not-found")
    objs = "\n---\n".join(f"""\
apiVersion: v1
kind: ConfigMap
metadata: {{name: slow-{i}, namespace: {NS}, labels: {{e2e-lease: slow}}}}
data: {{i: "{i}"}}""" for i in range(n))
    return cluster.bundle(name, f"""\
        name: {name}
        stages:
          - name: one
            source: {{path: cms.yaml}}
        """, {"cms.yaml": objs + "\n"})


def fired(cluster, rule):
    return [x for x in cluster.fault("GET", "/rules") if x["id"] == rule["id"]][0]["fired"]


def finish(cluster, p, rule, timeout=180):
    """Wait for the run p to end: its stderr and how often rule fired. The
    fault rules are cleared, and p killed if it outlives the wait."""
    try:
        _, err = p.communicate(timeout=timeout)
        return err, fired(cluster, rule)
    finally:
        cluster.fault("DELETE", "/rules")
        if p.poll() is None:
            p.kill()
            p.wait()


def test_the_lease_is_renewed_while_one_kind_group_outlasts_it_many_times(cluster):
    """A 4 s Lease; every apply request of the run's one kind group is
    delayed 2 s by the proxy and sent one at a time, so the group takes
    about 12 s, three Lease durations. A thread renews the Lease meanwhile:
    renewTime advances (read with kubectl), the holder stays this run, and
    the run succeeds."""
    cluster.fault("DELETE", "/rules")
    b = slow_bundle(cluster, "lease-slow", 6)
    rule = cluster.fault("POST", "/rules", {"method": "PATCH", "path": r"/namespaces/e2e-lease/configmaps/slow-",
                                            "action": "latency", "latencyMs": 2000})
    p = start(cluster, b, "--concurrency", "1", env={"KSTAGE_LEASE_SECONDS": "4"})
    seen = []
    try:
        wait_for_hang(cluster, rule, p)
        while p.poll() is None:
            r = cluster.kubectl("get", "lease", "kstage.lease-slow", "-n", "kstage-system", "-o", "json", check=False)
            if r.returncode == 0:
                spec = json.loads(r.stdout)["spec"]
                seen.append((spec["holderIdentity"], spec["renewTime"], fired(cluster, rule)))
            time.sleep(0.5)
    finally:
        err, n = finish(cluster, p, rule)
    assert p.returncode == 0, err
    assert n >= 6, n
    # while the group was being sent (after its first delayed request and
    # before its last), the Lease was renewed again and again by this run
    during = [(h, t) for h, t, f in seen if 1 <= f < 6]
    assert {h for h, _ in during} == {during[0][0]} and f"pid {p.pid}" in during[0][0], seen
    assert len({t for _, t in during}) >= 3, seen
    for i in range(6):
        assert cluster.get("configmap", f"slow-{i}", "-n", NS)["data"] == {"i": str(i)}
    s, rec = record(cluster, "lease-slow", 1)
    assert s["metadata"]["labels"]["status"] == "deployed", s["metadata"]["labels"]
    assert not cluster.exists("lease", "kstage.lease-slow", "-n", "kstage-system")


def test_a_stall_past_the_lease_while_it_cannot_be_renewed_is_reported_as_lost(cluster):
    """A 3 s Lease whose renewals all fail (the proxy answers 500 on the
    Lease) while the run's apply request stalls: the request is cut at the
    Lease's duration, and its retry is not sent: the Lease has expired. The
    run says so, exits 3, sends nothing more (the ConfigMap was never
    created) and leaves its record pending; rollback --recover then takes
    the expired Lease over (and says so) and marks it rolled back."""
    cluster.fault("DELETE", "/rules")
    b = lease_bundle(cluster, "lease-stall")
    cluster.fault("POST", "/rules", {"method": "PUT", "path": r"/leases/kstage\.lease-stall$", "action": "status",
                                     "status": 500})
    rule = cluster.fault("POST", "/rules", {"method": "PATCH", "path": r"/namespaces/e2e-lease/configmaps/held$",
                                            "action": "hang"})
    p = start(cluster, b, env=SHORT)
    err, n = finish(cluster, p, rule)
    holder = cluster.get("lease", "kstage.lease-stall", "-n", "kstage-system")["spec"]["holderIdentity"]
    assert p.returncode == 3, err
    assert "the lock (Lease kstage-system/kstage.lease-stall) could not be renewed for" in err, err
    assert "has expired" in err, err
    assert "kstage rollback --recover lease-stall" in err, err
    assert n >= 1, n
    assert f"pid {p.pid}" in holder, holder
    assert not cluster.exists("configmap", "held", "-n", NS)
    s, _ = record(cluster, "lease-stall", 1)
    assert s["metadata"]["labels"]["status"] == "pending", s["metadata"]["labels"]
    r = cluster.kstage("rollback", "--recover", "lease-stall")
    assert r.returncode == 0, r.stderr
    assert holder in r.stderr, r.stderr
    s, rec = record(cluster, "lease-stall", 1)
    assert s["metadata"]["labels"]["status"] == "rolled-back", s["metadata"]["labels"]
    assert f"the lock was taken over from an expired holder ({holder})" in rec["description"], rec["description"]
    assert not cluster.exists("lease", "kstage.lease-stall", "-n", "kstage-system")


def test_a_request_stalled_before_any_change_is_a_connection_error(cluster):
    """The run's first read of what is live stalls at every attempt: each
    attempt is cut at the Lease's duration (3 s) instead of blocking the run,
    the Lease stays renewed meanwhile, and the run ends as a connection
    error with nothing changed: exit 4."""
    cluster.fault("DELETE", "/rules")
    b = lease_bundle(cluster, "lease-unreachable")
    rule = cluster.fault("POST", "/rules", {"method": "GET", "path": r"/namespaces/e2e-lease/configmaps$",
                                            "action": "hang"})
    p = start(cluster, b, env=SHORT)
    err, n = finish(cluster, p, rule, timeout=300)
    assert p.returncode == 4, err
    assert "cluster unreachable" in err, err
    assert n >= 2, n
    assert not cluster.exists("configmap", "held", "-n", NS)
    assert not cluster.exists("lease", "kstage.lease-unreachable", "-n", "kstage-system")


def test_wait_for_lock_takes_over_a_lease_that_expires_meanwhile_and_records_it(cluster):
    """A run holding a 3 s Lease is killed; a second run started at once
    with --wait-for-lock is refused at first (the Lease is fresh), waits,
    takes the Lease over once it has expired, says so and records it."""
    cluster.fault("DELETE", "/rules")
    b = lease_bundle(cluster, "lease-wait-expired")
    rule = cluster.fault("POST", "/rules", {"method": "GET", "path": r"/namespaces/e2e-lease/configmaps$",
                                            "action": "hang"})
    p = start(cluster, b, env=SHORT)
    kill_at_hang(cluster, rule, p)
    holder = cluster.get("lease", "kstage.lease-wait-expired", "-n", "kstage-system")["spec"]["holderIdentity"]
    assert f"pid {p.pid}" in holder, holder
    r = cluster.kstage("apply", b, "--wait-for-lock", "120s")
    assert r.returncode == 0, r.stderr
    assert f"took over the release lock from an expired holder ({holder})" in r.stderr, r.stderr
    _, rec = record(cluster, "lease-wait-expired", 1)
    assert rec["takeover"] == holder, rec.get("takeover")
    assert cluster.get("configmap", "held", "-n", NS)["data"] == {"a": "b"}
    assert not cluster.exists("lease", "kstage.lease-wait-expired", "-n", "kstage-system")
