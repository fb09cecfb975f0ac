#!/usr/bin/env bash
# bench/fetch.sh - kstage fetch vs helm pull (the KServe v0.15.2 chart from
# the test cluster's OCI registry) and vs curl (the Gateway API v1.2.1
# standard-install.yaml from its HTTPS artifact server), same run.
#
#   bash bench/fetch.sh [CLUSTER_DIR]     (default build/test-cluster; needs `make cluster-up`)
#
# Cold: an empty kstage cache (a fresh --cache-dir) and a fresh helm HOME.
# Warm: kstage's cache already holds the pinned artifact (no network at
# all); helm and curl have no cache and fetch again. BENCH_ROUNDS rounds
# (default 5), medians, ratios kstage/other. KSTAGE, HELM may be set.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-build/test-cluster}
KSTAGE=${KSTAGE:-build/kstage}
HELM=${HELM:-build/tools/bin/helm}
ROUNDS=${BENCH_ROUNDS:-5}
[ -f "$DIR/env" ] || { echo "bench/fetch: no test cluster at $DIR (make cluster-up)" >&2; exit 2; }
set -a; . "$DIR/env"; set +a
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export SSL_CERT_FILE="$KSTAGE_ARTIFACT_CA"
GH=https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.2.1/standard-install.yaml
MIRROR="https://github.com/=$KSTAGE_ARTIFACT_URL/"

mkdir -p "$WORK/oci" "$WORK/url"
printf 'name: bench-oci\nstages:\n  - name: kserve\n    chart: {ref: oci://%s/kserve/charts/kserve, version: v0.15.2}\n' \
  "$KSTAGE_OCI_HOST" > "$WORK/oci/kstage.yaml"
printf 'name: bench-url\nstages:\n  - name: gw\n    source: {url: %s}\n' "$GH" > "$WORK/url/kstage.yaml"
"$KSTAGE" fetch "$WORK/oci" --update-lock -q --cache-dir "$WORK/lockcache"
"$KSTAGE" fetch "$WORK/url" --update-lock -q --cache-dir "$WORK/lockcache" --mirror "$MIRROR"

now() { date +%s.%N; }
t() { local t0; t0=$(now); "$@" >/dev/null 2>&1; python3 -c "print(f'{$(now)-$t0:.4f}')"; }
median() { python3 -c 'import statistics,sys; print(f"{statistics.median(float(x) for x in sys.argv[1:])*1000:.1f}")' "$@"; }

declare -a kc kw hp uc kuc kuw
for i in $(seq 1 "$ROUNDS"); do
  rm -rf "$WORK/c" "$WORK/h" "$WORK/pull" && mkdir -p "$WORK/h" "$WORK/pull"
  kc+=("$(t "$KSTAGE" fetch "$WORK/oci" -q --cache-dir "$WORK/c")")
  kw+=("$(t "$KSTAGE" fetch "$WORK/oci" -q --cache-dir "$WORK/c")")
  hp+=("$(t env HOME="$WORK/h" "$HELM" pull "oci://$KSTAGE_OCI_HOST/kserve/charts/kserve" --version v0.15.2 \
          --ca-file "$KSTAGE_ARTIFACT_CA" -d "$WORK/pull")")
  rm -rf "$WORK/c"
  kuc+=("$(t "$KSTAGE" fetch "$WORK/url" -q --cache-dir "$WORK/c" --mirror "$MIRROR")")
  kuw+=("$(t "$KSTAGE" fetch "$WORK/url" -q --cache-dir "$WORK/c" --mirror "$MIRROR")")
  uc+=("$(t curl -fsS --cacert "$KSTAGE_ARTIFACT_CA" -o "$WORK/pull/gw.yaml" \
          "$KSTAGE_ARTIFACT_URL/kubernetes-sigs/gateway-api/releases/download/v1.2.1/standard-install.yaml")")
done
KC=$(median "${kc[@]}"); KW=$(median "${kw[@]}"); HP=$(median "${hp[@]}")
KUC=$(median "${kuc[@]}"); KUW=$(median "${kuw[@]}"); UC=$(median "${uc[@]}")
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
echo "KServe chart from OCI ($ROUNDS rounds, medians, ms):"
echo "  kstage fetch cold $KC   warm (cache) $KW   helm pull $HP   ratio cold $(ratio "$KC" "$HP")  warm $(ratio "$KW" "$HP")"
echo "Gateway API v1.2.1 over HTTPS ($ROUNDS rounds, medians, ms):"
echo "  kstage fetch cold $KUC   warm (cache) $KUW   curl $UC   ratio cold $(ratio "$KUC" "$UC")  warm $(ratio "$KUW" "$UC")"
