#!/usr/bin/env python3
"""tests/tmpl/diff_helm.py - differential test: `kstage template` against the
real `helm template` (helm v4) on the corpus charts in tests/tmpl/charts and
on the KServe charts in $KSTAGE_FIXTURES, each with several value sets.

Outputs are compared as documents: the sequence of "# Source:" names (which
is the kind order), and each document parsed as YAML. When helm fails, kstage
must fail too. Prints one line per run and ends with
"tmpl-oracle: N passed, M failed". Exit status 1 when anything failed.

  KSTAGE_BIN   kstage binary (default build/kstage)
  HELM_BIN     helm binary (default build/tools/bin/helm)
  KSTAGE_FIXTURES  shared fixtures (default ../shared/fixtures)
  -v           show the first differing document of a failure
"""
import os
import re
import subprocess
import sys

try:
    import yaml  # PyYAML: documents are compared parsed
except ImportError:  # without it, compared as text (line ends trimmed)
    yaml = None

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHARTS = os.path.join(ROOT, "tests", "tmpl", "charts")
KSTAGE = os.environ.get("KSTAGE_BIN", os.path.join(ROOT, "build", "kstage"))
HELM = os.environ.get("HELM_BIN", os.path.join(ROOT, "build", "tools", "bin", "helm"))
FIXTURES = os.environ.get("KSTAGE_FIXTURES", os.path.join(ROOT, "..", "shared", "fixtures"))
VERBOSE = "-v" in sys.argv

# (chart path, release name or None, extra args)
def runs():
    c = lambda n: os.path.join(CHARTS, n)
    v = lambda n: os.path.join(ROOT, "tests", "tmpl", "values", n)
    out = [
        (c("app"), None, []),
        (c("app"), "t1", ["--set", "ingress.enabled=true,autoscaling.enabled=true,replicaCount=3", "-n", "prod"]),
        (c("app"), "t2", ["-f", v("app-full.yaml")]),
        (c("app"), "t3", ["--set", "image.tag=v2", "--set-string", "env.WORKERS=8", "--set", "fullnameOverride=custom-name"]),
        (c("app"), "t4", ["--set", "serviceAccount.create=false", "--show-only", "templates/deployment.yaml"]),
        (c("app"), "t5", ["--skip-tests", "--set-json", 'podAnnotations={"a":"1","b":2}']),
        (c("funcs"), None, []),
        (c("funcs"), "f2", ["--set", "num=7,big=10000000000", "--set", "list={z,y,x}"]),
        (c("funcs"), "f3", ["-f", v("funcs-alt.yaml")]),
        (c("lang"), None, []),
        (c("lang"), "l2", ["--set", "mode=b,count=5", "--set", "items[0].name=only"]),
        (c("lang"), "l3", ["-f", v("lang-alt.yaml")]),
        (c("umbrella"), "rel", []),
        (c("umbrella"), "rel", ["--set", "optional.enabled=true", "--set", "admin.enabled=true", "--include-crds"]),
        (c("umbrella"), "rel", ["--set", "tags.ui=false", "--set", "backend.replicas=4"]),
        (c("umbrella"), "rel", ["--set", "tags.ui=false", "--set", "backend.enabled=false"]),
        (c("umbrella"), "rel", ["--set", "extras.kept.size=big", "--skip-schema-validation"]),
        (c("errors"), "rel", ["--set", "case=none"]),
        (c("umbrella"), "rel", ["--set", "global.domain=other.org", "--show-only", "templates/parent.yaml"]),
        (c("umbrella"), "rel", ["--show-only", "charts/web/templates/cm.yaml"]),
        (c("packed"), "r", []),
        (c("legacyv1"), "rel", []),
        (c("legacyv1"), "rel", ["--set", "db.enabled=true", "--set", "tags.extras=false"]),
        (c("legacyv1"), "rel", ["--set", "db.enabled=true"]),
        (c("packed"), "r", ["--set", "packed.port=8080", "--include-crds"]),
        (c("kinds"), "rel", []),
        (c("kinds"), "rel", ["--kube-version", "1.28.3", "--api-versions", "custom.io/v1beta1",
                             "--api-versions", "custom.io/v1beta1/Thing"]),
        (c("kinds"), "rel", ["--skip-tests"]),
        (c("kinds"), "rel", ["--no-hooks", "--kube-version", "v1.30.0-gke.1"]),
        (c("kinds"), "rel", ["--kube-version", "1.29.1+k3s1", "--show-only", "templates/caps.yaml"]),
        (c("kinds"), "rel", ["--kube-version", "1.28", "--show-only", "templates/caps.yaml"]),
        (c("bitnamish"), "rel", []),
        (c("bitnamish"), "rel", ["--set", "image.digest=sha256:abc", "--set", "global.imageRegistry=reg.io",
                                 "--set", "resourcesPreset=nano", "--kube-version", "1.20.0"]),
        (c("bitnamish"), "rel", ["-f", v("bitnamish-alt.yaml")]),
        (c("bitnamish"), "rel", ["--set", "resourcesPreset=huge"]),
        (c("errors"), "e1", ["--set", "case=required"]),
        (c("errors"), "e2", ["--set", "case=fail"]),
        (c("errors"), "e2b", ["--set", "case=failmarker"]),
        (c("errors"), "e2c", ["--set", "case=failinclude"]),
        (c("errors"), "e2d", ["--set", "case=tplparseword"]),
        (c("errors"), "e3", ["--set", "case=badyaml"]),
        (c("errors"), "e3b", ["--set", "case=badindent"]),
        (c("errors"), "e3c", ["--set", "case=badalias"]),
        (c("errors"), "e3d", ["--set", "case=nullkey"]),
        (c("errors"), "e3e", ["--set", "case=mapkey"]),
        (c("errors"), "e3f", ["--set", "case=nonfinite"]),
        (c("errors"), "e3g", ["--set", "case=nan"]),
        (c("errors"), "e3h", ["--set", "case=badtag"]),
        (c("errors"), "e3i", ["--set", "case=badshape"]),
        (c("errors"), "e3j", ["--set", "case=scalardoc"]),
        (c("errors"), "e4", ["--set", "case=nilpointer"]),
        (c("errors"), "e4d", ["--set", "case=capsfield"]),
        (c("errors"), "e4f", ["--set", "case=normalized"]),
        (c("errors"), "e4g", ["--set", "case=digvalues"]),
        (c("errors"), "e4h", ["--set", "case=notatable"]),
        (c("errors"), "e4i", ["--set", "case=notavalue", "--set", "nested.deeper.x=1"]),
        (c("errors"), "e4b", ["--set", "case=tplinclude"]),
        (c("errors"), "e4c", ["--set", "case=tpltemplate"]),
        (c("errors"), "e4d", ["--set", "case=emptylines"]),
        (c("errors"), "e4e", ["--set", "case=globs"]),
        (c("errors"), "e5", ["--set", "case=none"]),
        (c("errors"), "e6", ["--set", "case=none", "--kube-version", "1.19.4-eks.2"]),
        (c("errors-parse"), "p1", []),
        (c("errors-parse-trim"), "p2", []),
        (c("errors-merge"), "m2", []),
        (c("errors-metadata"), "m1", []),
        (c("errors-missingdeps"), "md", []),
        (c("warnings"), "w", []),
        (c("warnings-hooks"), "r", []),
        (c("warnings-merge"), "r", ["-f", os.path.join(c("warnings-merge"), "ci", "tables.yaml")]),
        (c("warnings-merge"), "r", ["-f", os.path.join(c("warnings-merge"), "ci", "globals.yaml")]),
        (c("warnings-merge"), "r", ["-f", os.path.join(c("warnings-merge"), "ci", "global-value.yaml")]),
        (c("errors-ignore"), "i1", []),
        (c("errors-library"), "l1", []),
        (c("meta"), "m1", []),
        (c("helmobjs"), "ho", []),
        (c("helmobjs"), "ho", ["--set", "window=0s", "--kube-version", "1.30.2+gke.1"]),
        (c("novalues"), "nv", []),
        (c("novalues"), "nv", ["--set", "some=1"]),
        (c("sharedvals"), "sv", []),
        (c("sharedvals"), "sv", ["--set", "store.auth.token=given", "-n", "other"]),
        (c("sharedvals"), "sv", ["--set", "store.enabled=false"]),
    ]
    kserve = os.path.join(FIXTURES, "kserve", "v0.15.2")
    if os.path.isdir(kserve):
        crd = os.path.join(kserve, "kserve-crd-v0.15.2.tgz")
        ks = os.path.join(kserve, "kserve-v0.15.2.tgz")
        out += [
            (crd, None, []),
            (crd, "crds", ["-n", "kserve"]),
            (ks, None, []),
            (ks, "kserve", ["-n", "kserve", "--include-crds"]),
            (ks, "kserve", ["-n", "kserve", "--set", "kserve.controller.gateway.ingressGateway.enableGatewayApi=true",
                            "--set", "kserve.controller.deploymentMode=RawDeployment"]),
            (ks, "kserve", ["--set", "kserve.modelmesh.enabled=false", "--set", "kserve.localmodel.enabled=true",
                            "--kube-version", "1.30.2"]),
        ]
    return out


def split(text):
    """[(source, parsed document)] from helm template output."""
    docs = []
    for part in re.split(r"(?m)^---\n", text):
        if not part.strip():
            continue
        m = re.match(r"# Source: (.*)\n?", part)
        src = m.group(1) if m else None
        body = part[m.end():] if m else part
        if yaml is None:
            parsed = [l.rstrip() for l in body.strip().splitlines()]
        else:
            try:
                parsed = list(yaml.safe_load_all(body))
            except yaml.YAMLError as e:
                parsed = ["<unparsable: %s>" % e]
        docs.append((src, parsed))
    return docs


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p.returncode, p.stdout, p.stderr


def warnings_differ(herr, kerr):
    """Helm's value-merge messages (slog INFO lines, in Go's random map
    order, some more than once) must be kstage's "warning: " lines, as
    sets; kstage's other warnings must be helm's WARN lines."""
    info, warn = set(), []
    for m in re.finditer(r'^level=(INFO|WARN) msg=("(?:[^"\\]|\\.)*"|\S+)(.*)$', herr, re.M):
        msg = m.group(2)
        if msg.startswith('"'):
            msg = msg[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        if m.group(1) == "INFO":
            msg = msg + m.group(3)  # slog's attributes, as kstage writes them
            info.add(msg[len("warning: "):] if msg.startswith("warning: ") else msg)
        else:
            warn.append(msg)
    mine = set(l[len("warning: "):] for l in kerr.splitlines() if l.startswith("warning: "))
    missing = sorted(info - mine)
    extra = sorted(w for w in mine - info if not any(h in w or w in h for h in warn)
                   and not ("non-bool" in w and any("non-bool" in h for h in warn)))
    if missing or extra:
        return "warnings differ\n  helm only:   %s\n  kstage only: %s" % (missing, extra)
    return None


def case_runs():
    """The table cases of tests/tmpl/cases that need no int64 data, each
    rendered by helm as a chart's NOTES.txt with the case's data-helm as
    values: the expected output (or error text) must be helm's too."""
    import shutil
    import tempfile
    cdir = os.path.join(ROOT, "tests", "tmpl", "cases")
    work = tempfile.mkdtemp(prefix="tmpl-cases-")
    results = []
    for fn in sorted(os.listdir(cdir)):
        # limits.txt holds kstage's own budgets, where helm has none or
        # takes quadratic time (uniq of 200,000 values runs for many minutes)
        if fn == "limits.txt":
            continue
        txt = open(os.path.join(cdir, fn)).read()
        for blk in re.split(r"(?m)^=== ", txt)[1:]:
            name, rest = blk.split("\n", 1)
            secs = dict(re.findall(r"(?ms)^--- (\S+)\n(.*?)(?=^--- |\Z)", rest))
            t = secs.get("template", "")
            t = t[:-1] if t.endswith("\n") else t
            # int64 data, $ (the top object differs), defines (nesting),
            # random output, and fail/required (Helm rewords them) stay
            # with the unit test alone
            if ("data" in secs or "$" in t or "define" in t or "block" in t or "random" in name
                    or re.search(r"genCA|genPrivateKey|encryptAES|\bago\b|required|fail", t)):
                continue
            err = secs.get("error", "").strip()
            if err and "test:" in err:
                continue
            d = os.path.join(work, "ch")
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(os.path.join(d, "templates"))
            open(os.path.join(d, "Chart.yaml"), "w").write("apiVersion: v2\nname: ch\nversion: 0.1.0\n")
            open(os.path.join(d, "values.yaml"), "w").write(secs.get("data-helm", ""))
            open(os.path.join(d, "templates", "NOTES.txt"), "w").write(
                # helm trims NOTES: bars keep the case's own leading and
                # trailing blanks, and are cut off again below
                '{{- define "casebody" }}' + t + '{{ end }}|{{ template "casebody" .Values }}|')
            p = subprocess.run([HELM, "install", "x", d, "--dry-run=client"], capture_output=True, text=True)
            label = "case %s: %s" % (fn, name)
            if err:
                flat = p.stderr.replace("\n    ", " ").replace("\n  ", " ")
                results.append((label, None if err in flat else "helm error %r lacks %r" % (p.stderr[:300], err)))
            else:
                exp = secs.get("output", "")
                exp = exp[:-1] if exp.endswith("\n") else exp
                m = re.search(r"NOTES:\n(.*)\Z", p.stdout, re.S)
                got = m.group(1) if m else None
                if got is not None and got.endswith("\n"):
                    got = got[:-1]
                if got is not None:
                    got = got[1:-1] if len(got) >= 2 and got[0] == "|" and got[-1] == "|" else None
                results.append((label, None if got == exp else "helm gives %r, the case expects %r" % (
                    got if got is not None else p.stderr[:300], exp)))
    shutil.rmtree(work, ignore_errors=True)
    return results


def main():
    passed = failed = 0
    if yaml is None:
        print("note: PyYAML is missing; documents are compared as text")
    for label, problem in case_runs():
        if problem:
            failed += 1
            print("FAIL %s: %s" % (label, problem))
        else:
            passed += 1
            print("ok   %s" % label)
    for chart, name, args in runs():
        base = ([name] if name else []) + [chart] + args
        label = "%s %s" % (os.path.basename(chart), " ".join(([name] if name else []) + args))
        hrc, hout, herr = run([HELM, "template"] + base)
        krc, kout, kerr = run([KSTAGE, "template"] + base)
        problem = None
        if hrc != 0 and not os.path.basename(chart).startswith("errors") and not any("huge" in a for a in args):
            problem = "helm itself failed (corpus bug): %s" % herr.strip()[:300]
        elif hrc != 0 or krc != 0:
            if (hrc == 0) != (krc == 0):
                problem = "helm exit %d, kstage exit %d\n  helm: %s\n  kstage: %s" % (
                    hrc, krc, herr.strip()[:300], kerr.strip()[:300])
            else:
                # where Helm prints Go's one-line text, the messages must match
                hmsg = herr.strip().splitlines()[0][len("Error: "):] if herr.strip() else ""
                kmsg = kerr.strip().splitlines()[0] if kerr.strip() else ""
                kmsg = kmsg[len("kstage: error: "):] if kmsg.startswith("kstage: error: ") else kmsg
                if re.match(r"(execution error at|YAML parse error on|parse error at|template: )", hmsg) and hmsg != kmsg:
                    problem = "error messages differ\n  helm:   %s\n  kstage: %s" % (hmsg, kmsg)
        else:
            h, k = split(hout), split(kout)
            hs, ks = [s for s, _ in h], [s for s, _ in k]
            problem = warnings_differ(herr, kerr)
            if problem:
                pass
            elif hs != ks:
                problem = "document order differs:\n  helm:   %s\n  kstage: %s" % (hs[:20], ks[:20])
            else:
                for i, ((s, hd), (_, kd)) in enumerate(zip(h, k)):
                    if hd != kd:
                        problem = "document %d (%s) differs" % (i, s)
                        if VERBOSE:
                            dump = yaml.safe_dump if yaml else repr
                            problem += "\n--- helm\n%s\n--- kstage\n%s" % (dump(hd)[:2000], dump(kd)[:2000])
                        break
        if problem:
            failed += 1
            print("FAIL %s: %s" % (label, problem))
        else:
            passed += 1
            print("ok   %s" % label)
    print("tmpl-oracle: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
