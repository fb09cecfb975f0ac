#!/usr/bin/env python3
"""bench/template.py - `kstage template` against `helm template`, same run,
same inputs: the KServe CRD chart (about 1.4 MB of CRDs) and ordinary
application charts (the KServe chart, and tests/tmpl/charts/app with a full
values file). Reports median wall time and peak RSS of each tool and the
ratios helm/kstage. Timing is reported, never asserted.

  KSTAGE_BIN, HELM_BIN, KSTAGE_FIXTURES as in tests/tmpl/diff_helm.py
  BENCH_RUNS (default 15)
"""
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KSTAGE = os.environ.get("KSTAGE_BIN", os.path.join(ROOT, "build", "kstage"))
HELM = os.environ.get("HELM_BIN", os.path.join(ROOT, "build", "tools", "bin", "helm"))
FIX = os.environ.get("KSTAGE_FIXTURES", os.path.join(ROOT, "..", "shared", "fixtures"))
RUNS = int(os.environ.get("BENCH_RUNS", "15"))


def measure(cmd):
    """median wall seconds, max RSS KiB (each run in a fresh child)."""
    walls, rss = [], []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            fd = os.open(os.devnull, os.O_WRONLY)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.execv(cmd[0], cmd)
        _, status, ru = os.wait4(pid, 0)
        walls.append(time.perf_counter() - t0)
        rss.append(ru.ru_maxrss)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit("bench: %s failed" % " ".join(cmd))
    return statistics.median(walls), max(rss)


def main():
    k = os.path.join(FIX, "kserve", "v0.15.2")
    cases = [
        ("KServe CRD chart (1.4 MB of CRDs)", [os.path.join(k, "kserve-crd-v0.15.2.tgz")]),
        ("KServe chart", [os.path.join(k, "kserve-v0.15.2.tgz"), "-n", "kserve"]),
        ("app chart, full values", [os.path.join(ROOT, "tests", "tmpl", "charts", "app"), "-f",
                                    os.path.join(ROOT, "tests", "tmpl", "values", "app-full.yaml")]),
    ]
    print("%-36s %10s %10s %8s %10s %10s %8s" % ("chart", "helm ms", "kstage ms", "time x",
                                                 "helm MiB", "kstage MiB", "mem x"))
    base_w, base_r = measure([KSTAGE, "version", "--short"])
    for name, args in cases:
        hw, hr = measure([HELM, "template"] + args)
        kw, kr = measure([KSTAGE, "template"] + args)
        print("%-36s %10.1f %10.1f %8.1f %10.1f %10.1f %8.1f" % (
            name, hw * 1e3, kw * 1e3, hw / kw, hr / 1024, kr / 1024, hr / kr))
    print("kstage process floor (kstage version): %.1f ms, %.1f MiB (dynamic loading of %s)" % (
        base_w * 1e3, base_r / 1024, "its shared libraries"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
