#!/usr/bin/env bash
# bench/apply.sh - kstage apply vs kubectl apply --server-side, same cluster,
# same run: the Gateway API v1.2.1 bundle plus 500 ConfigMaps.
#
#   bash bench/apply.sh [CLUSTER_DIR]     (default build/test-cluster; needs `make cluster-up`)
#
# Both tools read the same local files and go through the test cluster's
# fault proxy (no faults set), whose counters give the request counts.
# Each tool runs twice from a clean slate: a first apply (everything is
# created) and a second one (nothing changes), BENCH_ROUNDS rounds (default
# 3, which tool goes first alternating), medians. Prints wall times, ratios
# and request counts. KSTAGE (default build/kstage) and KUBECTL may be set.
# KSTAGE_BASE=path/to/another/kstage (e.g. main's build) runs it too in every
# round, in turn with the others, and prints its figures beside KSTAGE's: on a
# loaded machine only builds measured in the same rounds compare.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-build/test-cluster}
KSTAGE=${KSTAGE:-build/kstage}
KUBECTL=${KUBECTL:-build/tools/bin/kubectl}
N=${BENCH_CONFIGMAPS:-500}
[ -f "$DIR/env" ] || { echo "bench/apply: no test cluster at $DIR (make cluster-up)" >&2; exit 2; }
set -a; . "$DIR/env"; set +a
# BENCH_DIRECT=1: both tools straight to the API server (HTTP/2 over TLS)
# instead of through the fault proxy (HTTP/1.1 only); requests then read 0
KCFG=$KSTAGE_KUBECONFIG
VIA="through the fault proxy (no faults)"
[ -z "${BENCH_DIRECT:-}" ] || { KCFG=$KSTAGE_DIRECT_KUBECONFIG; VIA="straight to the API server (requests not counted)"; }
FIX=${KSTAGE_FIXTURES:-../shared/fixtures}/gateway-api/v1.2.1/standard-install.yaml
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

mkdir -p "$WORK/bundle/files"
cp "$FIX" "$WORK/bundle/files/gateway-api.yaml"
{
  printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: bench-apply}\n'
  for i in $(seq 1 "$N"); do
    printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: bench-%d, namespace: bench-apply, labels: {bench: apply}}\ndata: {index: "%d", payload: "%s"}\n' \
      "$i" "$i" "value-$i-abcdefghijklmnopqrstuvwxyz"
  done
} > "$WORK/bundle/files/configmaps.yaml"
cat > "$WORK/bundle/kstage.yaml" <<'EOF'
name: bench-apply
stages:
  - name: gateway-api-crds
    source: {path: files/gateway-api.yaml}
  - name: configmaps
    source: {path: files/configmaps.yaml}
EOF

K() { "$KUBECTL" --kubeconfig "$KSTAGE_DIRECT_KUBECONFIG" "$@"; }
# each first apply is a first install: the release's records go too (a full
# history would add the pruning's requests to some rounds and not others)
clean() {
  K delete namespace bench-apply --ignore-not-found --wait=true >/dev/null
  K delete secret -n kstage-system -l owner=kstage,name=bench-apply --ignore-not-found >/dev/null
  K delete -f "$WORK/bundle/files/gateway-api.yaml" --ignore-not-found --wait=true >/dev/null 2>&1 || true
}
counters_reset() { curl -fsS -X DELETE "$KSTAGE_FAULT_URL/counters" >/dev/null; curl -fsS -X DELETE "$KSTAGE_FAULT_URL/rules" >/dev/null; }
# the proxy also tallies each mutating request a second time as "WRITE ...": not requests
counters_total() { curl -fsS "$KSTAGE_FAULT_URL/counters" | python3 -c 'import json,sys; print(sum(v for k, v in json.load(sys.stdin).items() if not k.startswith("WRITE ")))'; }
now() { date +%s.%N; }

run_kstage() {
  counters_reset; local t0; t0=$(now)
  "$1" apply "$WORK/bundle" --kubeconfig "$KCFG" -q >/dev/null
  echo "$(python3 -c "print(f'{$(now)-$t0:.2f}')") $(counters_total)"
}
run_kubectl() {
  counters_reset; local t0; t0=$(now)
  "$KUBECTL" --kubeconfig "$KCFG" apply --server-side \
    -f "$WORK/bundle/files/gateway-api.yaml" -f "$WORK/bundle/files/configmaps.yaml" >/dev/null
  echo "$(python3 -c "print(f'{$(now)-$t0:.2f}')") $(counters_total)"
}
# one tool from a clean slate: its first apply, then its no-op apply
pair() {
  local a b
  clean
  if [ "$1" = kubectl ]; then a=$(run_kubectl); b=$(run_kubectl); else a=$(run_kstage "$1"); b=$(run_kstage "$1"); fi
  echo "${a// /,},${b// /,}"
}

ROUNDS=${BENCH_ROUNDS:-3}
echo "bench/apply: Gateway API v1.2.1 (5 CRDs) + 1 Namespace + $N ConfigMaps, $VIA, $ROUNDS rounds"
[ -z "${KSTAGE_BASE:-}" ] || echo "  base kstage: $KSTAGE_BASE ($("$KSTAGE_BASE" version --short))"
echo "  kstage: $KSTAGE ($("$KSTAGE" version --short)), kubectl: $("$KUBECTL" version --client -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])'), load $(cut -d' ' -f1-3 /proc/loadavg)"
TOOLS=("$KSTAGE" kubectl)
[ -z "${KSTAGE_BASE:-}" ] || TOOLS+=("$KSTAGE_BASE")
results=""
for r in $(seq 1 "$ROUNDS"); do
  # rotate which tool goes first, so a trend in machine load hurts all alike
  declare -A got=()
  for k in $(seq 0 $((${#TOOLS[@]} - 1))); do
    t=$(( (r - 1 + k) % ${#TOOLS[@]} ))
    got[$t]=$(pair "${TOOLS[$t]}")
  done
  row="${got[0]},${got[1]}"
  [ -z "${KSTAGE_BASE:-}" ] || row="$row,${got[2]}"
  results="$results $row"
  unset got
done
clean
# shellcheck disable=SC2086
python3 -c '
import statistics, sys
rows = [list(map(float, r.split(","))) for r in sys.argv[1:]]
base = len(rows[0]) > 8
for i, r in enumerate(rows, 1):
    ks1, kr1, ks2, kr2, kc1, cr1, kc2, cr2 = r[:8]
    line = (f"  round {i}: create kstage {ks1:5.2f}s kubectl {kc1:5.2f}s ratio {ks1/kc1:.2f} | "
            f"no-op kstage {ks2:5.2f}s kubectl {kc2:5.2f}s ratio {ks2/kc2:.2f}")
    if base:
        line += f" | base create {r[8]:5.2f}s ratio {r[8]/kc1:.2f}, no-op {r[10]:5.2f}s ratio {r[10]/kc2:.2f}"
    print(line)
med = lambda k: statistics.median(r[k] for r in rows)
ks1, kr1, ks2, kr2, kc1, cr1, kc2, cr2 = (med(k) for k in range(8))
if base:
    bs1, br1, bs2, br2 = (med(k) for k in range(8, 12))
    per = lambda k: " ".join("%.2f" % (r[k] / r[4]) for r in rows)
    print(f"  base first apply, median: kstage {bs1:5.2f}s {br1:4.0f} requests | ratio {bs1/kc1:.2f} (per round {per(8)})")
    print(f"  base no-op apply, median: kstage {bs2:5.2f}s {br2:4.0f} requests | ratio {bs2/kc2:.2f}")
    print(f"  kstage first apply ratio per round {per(0)}")
print(f"  first apply  (create), median: kstage {ks1:5.2f}s {kr1:4.0f} requests | kubectl {kc1:5.2f}s {cr1:4.0f} requests | ratio {ks1/kc1:.2f}")
print(f"  second apply (no-op),  median: kstage {ks2:5.2f}s {kr2:4.0f} requests | kubectl {kc2:5.2f}s {cr2:4.0f} requests | ratio {ks2/kc2:.2f}")
print(f"bench/apply: kstage/kubectl wall-time ratio {ks1/kc1:.2f} (create), {ks2/kc2:.2f} (no-op), medians; goal <= 0.50")
' $results
