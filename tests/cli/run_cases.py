#!/usr/bin/env python3
"""CLI cases as data: each tests/cli/cases/*.case file names the arguments,
the exit code and what stdout/stderr must (or must not) contain.

    args: version --short          (shell-like words; $FIXTURES expands)
    env: NO_COLOR=1                (optional, repeatable)
    exit: 0
    stdout: 0.1.0                  (substring; repeatable)
    stderr: did you mean           (substring; repeatable)
    not-stderr: Segmentation       (must not appear)
    not-stdout: hunter22           (must not appear)
    stdout-json-lines: yes         (every stdout line parses as JSON)
    secret: Zmarker                (planted: in neither stdout nor stderr)
    file: kubeconfig.yaml          (a file of the case, in its own temporary
    | apiVersion: v1                directory $CASE; "| " lines are its text,
    | token: x                      where $CASE expands too)
    exec-file: plugin.sh           (the same, made executable)
    max-rss-mb: 1024               (peak memory bound, default 1024)
    max-seconds: 60                (time bound, default 60)

Every case runs within its memory and time bounds, measured on the child.

Runs the binary in $KSTAGE_ASAN_BIN (sanitized) or $KSTAGE_BIN.
Ends with the line `cli: N passed, N failed`."""
import json, os, shlex, subprocess, sys, glob, tempfile, threading, time

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
binary = os.environ.get("KSTAGE_ASAN_BIN") or os.environ.get("KSTAGE_BIN") or os.path.join(root, "build/kstage")
fixtures = os.environ.get("KSTAGE_FIXTURES", os.path.join(root, "..", "shared", "fixtures"))
only = sys.argv[1:]

passed = failed = 0
for path in sorted(glob.glob(os.path.join(root, "tests/cli/cases/*.case"))):
    name = os.path.basename(path)[:-5]
    if only and not any(name.startswith(o) for o in only):
        continue
    spec = {"stdout": [], "stderr": [], "not-stderr": [], "not-stdout": [], "env": [], "secret": []}
    files, cur = [], None
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if cur is not None and (line == "|" or line.startswith("| ")):
            cur[2].append(line[2:])
            continue
        cur = None
        if not line.strip() or line.startswith("#"):
            continue
        key, _, val = line.partition(":")
        val = val.strip()
        if key in ("file", "exec-file"):
            cur = (val, key == "exec-file", [])
            files.append(cur)
        elif key in ("stdout", "stderr", "not-stderr", "not-stdout", "env", "secret"):
            spec[key].append(val)
        else:
            spec[key] = val
    casedir = tempfile.mkdtemp(prefix="kstage-case-")

    def expand(t):
        return t.replace("$FIXTURES", fixtures).replace("$ROOT", root).replace("$CASE", casedir)

    for rel, executable, lines in files:
        fp = os.path.join(casedir, rel)
        os.makedirs(os.path.dirname(fp), exist_ok=True)
        with open(fp, "w", encoding="utf-8") as f:
            f.write(expand("\n".join(lines) + "\n"))
        if executable:
            os.chmod(fp, 0o755)
    args = [expand(a) for a in shlex.split(spec.get("args", ""))]
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    for e in spec["env"]:
        k, _, v = e.partition("=")
        env[k] = expand(v)
    max_rss = int(spec.get("max-rss-mb", "1024"))
    max_seconds = float(spec.get("max-seconds", "60"))
    problems = []
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        t0 = time.monotonic()
        child = subprocess.Popen([binary] + args, stdout=fo, stderr=fe, env=env, cwd=root,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
        timer = threading.Timer(max(120, max_seconds * 2), os.killpg, (child.pid, 9))
        timer.start()
        _, status, usage = os.wait4(child.pid, 0)   # the child's own peak memory
        timer.cancel()
        child.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.monotonic() - t0
        fo.seek(0)
        fe.seek(0)
        p = subprocess.CompletedProcess(args, child.returncode, fo.read().decode("utf-8", "replace"),
                                        fe.read().decode("utf-8", "replace"))
    subprocess.run(["rm", "-rf", casedir])
    if elapsed > max_seconds:
        problems.append(f"took {elapsed:.1f} s, bound {max_seconds:.0f} s")
    if usage.ru_maxrss > max_rss * 1024:
        problems.append(f"peak memory {usage.ru_maxrss // 1024} MB, bound {max_rss} MB")
    for s in spec["secret"]:
        if s in p.stdout or s in p.stderr:
            problems.append(f"the planted secret {s!r} was printed")
    want = int(spec.get("exit", "0"))
    if p.returncode != want:
        problems.append(f"exit {p.returncode}, want {want}")
    for s in spec["stdout"]:
        if s.replace("\\t", "\t").replace("\\n", "\n") not in p.stdout:
            problems.append(f"stdout lacks {s!r}")
    for s in spec["stderr"]:
        if s.replace("\\t", "\t").replace("\\n", "\n") not in p.stderr:
            problems.append(f"stderr lacks {s!r}")
    for s in spec["not-stderr"] + ["AddressSanitizer", "runtime error:", "LeakSanitizer"]:
        if s in p.stderr:
            problems.append(f"stderr has {s!r}")
    for s in spec["not-stdout"]:
        if s in p.stdout:
            problems.append(f"stdout has {s!r}")
    if spec.get("stdout-json-lines") == "yes":
        for l in p.stdout.splitlines():
            try:
                json.loads(l)
            except ValueError:
                problems.append(f"stdout line is not JSON: {l!r}")
    if problems:
        failed += 1
        print(f"FAIL {name}: " + "; ".join(problems))
        print("  stdout: " + p.stdout[:800].replace("\n", "\n          "))
        print("  stderr: " + p.stderr[:800].replace("\n", "\n          "))
    else:
        passed += 1
print(f"cli: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
