#!/usr/bin/env bash
# make demo: the shipped bundle (the repo root) migrates KServe from Ingress
# to the Gateway API on a local test cluster with KServe v0.15.2 installed
# (KServe's real controller manager; KSTAGE_CONTROLLERS=sim for its stand-in):
# plan, apply with live stage progress, the inference reply, the history,
# then a second plan that has nothing left to do.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
B=${B:-build}
kstage="$root/$B/kstage"
kubectl="$root/build/tools/bin/kubectl"
values=values/examples/demo.yaml
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "kstage version"
"$kstage" version || exit 1

cluster_started=0
cleanup() { [ $cluster_started = 1 ] && make --no-print-directory B="$B" cluster-down >/dev/null 2>&1; }
trap cleanup EXIT

step "start the local test cluster (KServe v0.15.2 installed, its real controller running; Gateway API not yet)"
# The first run builds the cluster from Go modules (minutes, hundreds of
# lines of go output): kept in a log, its last lines shown if it fails.
log="$B/demo-cluster-up.log"
mkdir -p "$B"
echo "(the first time this builds the test cluster from Go modules: several minutes; log in $log)"
t0=$SECONDS
# -j2: the API server build, KServe's controller build and the downloads overlap.
if ! make --no-print-directory -j2 B="$B" cluster-up KSTAGE_PRELOAD=kserve-v0.15.2 >"$log" 2>&1; then
  tail -n 30 "$log"
  exit 1
fi
grep 'test cluster ready' "$log"
cluster_s=$((SECONDS - t0))
echo "cluster step: ${cluster_s}s"
cluster_started=1
set -a; . "$B/test-cluster/env"; set +a
export KUBECONFIG="$root/$B/test-cluster/kubeconfig" SSL_CERT_FILE="$root/$B/test-cluster/ca.crt"
[ -x "$kubectl" ] || kubectl=$(command -v kubectl)
# The test cluster has no internet: kstage.lock names github.com, the
# cluster's artifact server holds the same bytes (the sha256 is checked).
mirror=(--mirror "https://github.com/=$KSTAGE_ARTIFACT_URL/")
has_summary=0
"$kstage" apply --help 2>&1 | grep -q -- '--summary' && has_summary=1
sum() { [ $has_summary = 1 ] && printf -- '--summary\n%s\n' "$B/demo-$1.md"; }

step "before: KServe's ingress config, one JSON string in a ConfigMap"
"$kubectl" -n kserve get configmap inferenceservice-config -o jsonpath='{.data.ingress}'; echo

step "kstage plan . -f $values   (preflight, then what each stage would change)"
"$kstage" plan . -f "$values" "${mirror[@]}" $(sum plan)

step "kstage apply . -f $values   (each stage applied, then waited healthy)"
"$kstage" apply . -f "$values" "${mirror[@]}" $(sum apply) || exit 1

step "after: the Gateway is Programmed, KServe uses it"
"$kubectl" get gatewayclass,gateway -A
"$kubectl" -n kserve get configmap inferenceservice-config -o jsonpath='{.data.ingress}'; echo

if [ "${KSTAGE_KSERVE_CONTROLLER:-}" = real ]; then
  step "KServe's own controller (its manager v0.15.2) reconciled the test InferenceService through the Gateway"
  # its JSON log lines about the test InferenceService, each distinct message once
  "$kubectl" -n kserve logs deployment/kserve-controller-manager -c manager | python3 -c '
import json, sys
seen = set()
for line in sys.stdin:
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if "sklearn-v2-iris" not in (e.get("isvc"), e.get("name")):
        continue
    text = (e.get("logger", "") + ": " + e["msg"].strip() + (" (" + e["error"] + ")" if "error" in e else "")).lstrip(": ")
    if text not in seen:
        seen.add(text)
        print(e["ts"], text[:200])'
fi

step "kstage history"
"$kstage" history kserve-gateway-api

# The verify stage's test service was deleted after its check: a plan with it
# would create it again, so this one leaves the test stage out.
step "kstage plan again, the test stage left out: nothing left to change (exit code 0 = no changes)"
"$kstage" plan . -f "$values" "${mirror[@]}" --set verify.enabled=false --detailed-exitcode -q
echo "plan exit code: $?"

if [ $has_summary = 1 ]; then
  step "the apply summary for CI pages ($B/demo-apply.md)"
  cat "$B/demo-apply.md"
fi

step "demo done in $((SECONDS / 60))m $((SECONDS % 60))s (the cluster step $((cluster_s / 60))m $((cluster_s % 60))s)"
