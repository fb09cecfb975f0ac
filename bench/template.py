#!/usr/bin/env python3
"""bench/template.py - `kstage template` against `helm template`, same run,
same inputs: the KServe CRD chart (about 1.4 MB of CRDs), ordinary
application charts (the KServe chart, tests/tmpl/charts/app with a full
values file, and tests/tmpl/charts/bitnamish, built on a library chart)
and bench/charts/heavy, a template-heavy chart (16 components through
shared helpers, include, tpl and toYaml on every document).
Reports median wall time, median CPU time (user + system, of the process
and its threads: less sensitive than wall time to a busy machine) and peak
RSS of each tool, the ratios helm/kstage, and the load average the run saw.
Timing is reported, never asserted.

  KSTAGE_BIN, HELM_BIN, KSTAGE_FIXTURES as in tests/tmpl/diff_helm.py
  BENCH_RUNS (default 15)
  BENCH_PUBLIC_CHARTS (optional): a directory of public charts read from
    their repositories (never committed here); each NAME.args in it holds
    the `template` arguments of one more row, "public: NAME", shell-quoted,
    paths relative to that directory (the tools run in it)
"""
import os
import shlex
import statistics
import subprocess
import shutil
import sys
import tarfile
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KSTAGE = os.path.abspath(os.environ.get("KSTAGE_BIN", os.path.join(ROOT, "build", "kstage")))
HELM = os.path.abspath(os.environ.get("HELM_BIN", os.path.join(ROOT, "build", "tools", "bin", "helm")))
FIX = os.path.abspath(os.environ.get("KSTAGE_FIXTURES", os.path.join(ROOT, "..", "shared", "fixtures")))
RUNS = int(os.environ.get("BENCH_RUNS", "15"))


def peak_rss_kib(cmd, runs=3):
    """Peak RSS of cmd itself, by GNU time: a Python child's ru_maxrss counts
    the interpreter it was forked from (~10 MiB), which would hide kstage's."""
    best = 0
    for _ in range(runs):
        p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            sys.exit("bench: %s failed: %s" % (" ".join(cmd), p.stderr[-500:]))
        best = max(best, int(p.stderr.strip().splitlines()[-1]))
    return best


def measure(cmd):
    """median wall seconds (each run in a fresh child), median CPU seconds,
    peak RSS KiB. The
    child is started with posix_spawn (vfork): a fork of this Python would
    add ~1 ms of page-table copying to every run of either tool."""
    walls, cpus = [], []
    quiet = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
             (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]
    for _ in range(RUNS):
        t0 = time.perf_counter()
        pid = os.posix_spawn(cmd[0], cmd, os.environ, file_actions=quiet)
        _, status, ru = os.wait4(pid, 0)
        walls.append(time.perf_counter() - t0)
        cpus.append(ru.ru_utime + ru.ru_stime)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit("bench: %s failed" % " ".join(cmd))
    return statistics.median(walls), statistics.median(cpus), peak_rss_kib(cmd)


def big_crd_chart(tgz, tmp, copies=3):
    """The KServe CRD chart with its templates copied `copies` times: about
    96,000 lines, the size the issue quotes helm's 1.3 s for."""
    with tarfile.open(tgz) as t:
        t.extractall(tmp)
    chart = os.path.join(tmp, "kserve-crd")
    tdir = os.path.join(chart, "templates")
    for f in sorted(os.listdir(tdir)):
        for i in range(2, copies + 1):
            shutil.copy(os.path.join(tdir, f), os.path.join(tdir, "copy%d-%s" % (i, f)))
    return chart


def public_cases():
    """Rows from BENCH_PUBLIC_CHARTS (see the module's doc), by name."""
    d = os.environ.get("BENCH_PUBLIC_CHARTS")
    if not d:
        return []
    d = os.path.abspath(d)
    cases = []
    for f in sorted(os.listdir(d)):
        if f.endswith(".args"):
            with open(os.path.join(d, f)) as fh:
                args = shlex.split(fh.read())
            cases.append(("public: " + f[:-len(".args")], args, d))
    return cases


def main():
    k = os.path.join(FIX, "kserve", "v0.15.2")
    tmp = tempfile.mkdtemp(prefix="kstage-bench-")
    big = big_crd_chart(os.path.join(k, "kserve-crd-v0.15.2.tgz"), tmp)
    lines = sum(open(os.path.join(d, f), "rb").read().count(b"\n")
                for d, _, fs in os.walk(big) for f in fs)
    cases = [
        ("CRD chart, %dk lines (KServe CRDs x3)" % (lines // 1000), [big]),
        ("KServe CRD chart (1.4 MB of CRDs)", [os.path.join(k, "kserve-crd-v0.15.2.tgz")]),
        ("KServe chart", [os.path.join(k, "kserve-v0.15.2.tgz"), "-n", "kserve"]),
        ("app chart, full values", [os.path.join(ROOT, "tests", "tmpl", "charts", "app"), "-f",
                                    os.path.join(ROOT, "tests", "tmpl", "values", "app-full.yaml")]),
        ("library-chart app (bitnamish)", [os.path.join(ROOT, "tests", "tmpl", "charts", "bitnamish")]),
        ("template-heavy (bench/charts/heavy)", [os.path.join(ROOT, "bench", "charts", "heavy")]),
    ] + public_cases()
    print("load average at start: %.1f %.1f %.1f on %d CPUs" % (os.getloadavg() + (os.cpu_count(),)))
    print("%-36s %8s %9s %7s %8s %9s %6s %9s %10s %6s" % (
        "chart", "helm ms", "kstage ms", "wall x", "helm cpu", "kstage cpu", "cpu x", "helm MiB", "kstage MiB",
        "mem x"))
    base_w, _, base_r = measure([KSTAGE, "version", "--short"])
    start = os.getcwd()
    for name, args, *cwd in cases:
        os.chdir(cwd[0] if cwd else start)
        hw, hc, hr = measure([HELM, "template"] + args)
        kw, kc, kr = measure([KSTAGE, "template"] + args)
        print("%-36s %8.1f %9.1f %7.1f %8.1f %9.1f %6.1f %9.1f %10.1f %6.1f" % (
            name, hw * 1e3, kw * 1e3, hw / kw, hc * 1e3, kc * 1e3, hc / max(kc, 1e-4), hr / 1024, kr / 1024,
            hr / kr))
    true_w, _, _ = measure(["/bin/true"])
    print("kstage process floor (kstage version): %.1f ms, %.1f MiB; spawning /bin/true: %.1f ms" % (
        base_w * 1e3, base_r / 1024, true_w * 1e3))
    print("load average at end: %.1f %.1f %.1f" % os.getloadavg())
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
