#!/usr/bin/env bash
# Smoke test of a running test cluster with the independent kubectl oracle:
# API discovery, and the Gateway API v1.2.1 CRDs applied server-side and Established.
# Usage: smoke.sh [CLUSTER_DIR]   (default build/test-cluster); KUBECTL overrides the kubectl path.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$root/build/test-cluster}
kubectl=${KUBECTL:-$root/build/tools/bin/kubectl}
fixtures=${KSTAGE_FIXTURES:-$(cd "$root/.." && pwd)/shared/fixtures}
[ -f "$dir/env" ] || { echo "smoke: $dir/env missing: is the test cluster up? (make cluster-up)" >&2; exit 1; }
k() { "$kubectl" --kubeconfig "$dir/kubeconfig" "$@"; }
pass=0 fail=0
check() { # name, command...
  local name=$1; shift
  if out=$("$@" 2>&1); then pass=$((pass+1)); echo "ok   $name"
  else fail=$((fail+1)); echo "FAIL $name"; echo "$out" | tail -20 | sed 's/^/     /'; fi
}

res=$(k api-resources -o name)
check "api-resources lists core kinds" grep -qx 'pods' <<<"$res"
check "api-resources lists namespaces" grep -qx 'namespaces' <<<"$res"
check "api-resources lists apiextensions kinds" grep -qx 'customresourcedefinitions.apiextensions.k8s.io' <<<"$res"
applied=$(k apply --server-side --force-conflicts -o name -f "$fixtures/gateway-api/v1.2.1/standard-install.yaml" 2>&1) && ok=0 || ok=$?
check "server-side apply Gateway API v1.2.1 standard-install" test "$ok" -eq 0
crds=$(sed -n 's#^customresourcedefinition.apiextensions.k8s.io/##p' <<<"$applied")
n=$(wc -w <<<"$crds")
check "standard-install applied five CRDs (got $n)" test "$n" -eq 5
for c in $crds; do
  check "CRD $c Established" k wait --for=condition=Established --timeout=60s "crd/$c"
done
check "direct kubeconfig reaches the API server" "$kubectl" --kubeconfig "$dir/direct.kubeconfig" get --raw /readyz
check "client-cert user is authenticated" "$kubectl" --kubeconfig "$dir/cert.kubeconfig" auth whoami
check "limited user can list pods in its namespace" "$kubectl" --kubeconfig "$dir/limited.kubeconfig" get pods -n team-a
if "$kubectl" --kubeconfig "$dir/limited.kubeconfig" get pods -n default >/dev/null 2>&1; then
  fail=$((fail+1)); echo "FAIL limited user must not list pods in default"
else pass=$((pass+1)); echo "ok   limited user is forbidden outside team-a"; fi
echo "smoke: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
