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

Runs the binary in $KSTAGE_ASAN_BIN (sanitized) or $KSTAGE_BIN.
Ends with the line `cli: N passed, N failed`."""
import json, os, shlex, subprocess, sys, glob

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
binary = os.environ.get("KSTAGE_ASAN_BIN") or os.environ.get("KSTAGE_BIN") or os.path.join(root, "build/kstage")
fixtures = os.environ.get("KSTAGE_FIXTURES", os.path.join(root, "..", "shared", "fixtures"))
only = sys.argv[1:]

passed = failed = 0
for path in sorted(glob.glob(os.path.join(root, "tests/cli/cases/*.case"))):
    name = os.path.basename(path)[:-5]
    if only and not any(name.startswith(o) for o in only):
        continue
    spec = {"stdout": [], "stderr": [], "not-stderr": [], "not-stdout": [], "env": []}
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        key, _, val = line.partition(":")
        val = val.strip()
        if key in ("stdout", "stderr", "not-stderr", "not-stdout", "env"):
            spec[key].append(val)
        else:
            spec[key] = val
    args = [a.replace("$FIXTURES", fixtures).replace("$ROOT", root) for a in shlex.split(spec.get("args", ""))]
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    for e in spec["env"]:
        k, _, v = e.partition("=")
        env[k] = v
    p = subprocess.run([binary] + args, capture_output=True, text=True, env=env, cwd=root,
                       stdin=subprocess.DEVNULL, timeout=120)
    problems = []
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
