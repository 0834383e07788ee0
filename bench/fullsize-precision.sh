#!/usr/bin/env bash
# `npm run bench:fullsize-precision`: `--precision auto` on the full-size
# examples/dlrm_kaggle.rmdl (26 tables, 33.8M rows of dim 16, 2.06 GiB fp32)
# with trained-looking synthetic weights made on the fly (`--init trained
# --seed 7`, no weights file): 100,000 calibration rows and 200,000 held-out
# rows (another data seed) from `rmc gen-data --teacher as-is` (labels drawn
# from the fp32 model's own predictions: weights made on the fly are not
# calibrated to a CTR, and a fitted teacher would make the fp32 model a poor
# predictor of its labels), the fp32 compile, the auto
# compile under GNU time (wall, CPU, peak RSS), then the held-out check
# (bench/fullsize-precision-check.ts: both artifacts on the Wasm runtime, NE
# on labels and the expected NE delta against fp32, with standard errors).
#   bash bench/fullsize-precision.sh        env: CALIB_ROWS (100000), HELD_ROWS (200000),
#   BUDGET (0.05), SEARCH_TIME (e.g. 6m; default none), KEEP=1 keeps out/fullsize-precision/
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)"; exit 1; }
model=examples/dlrm_kaggle.rmdl
root=out/fullsize-precision
calib_rows=${CALIB_ROWS:-100000}
held_rows=${HELD_ROWS:-200000}
budget=${BUDGET:-0.05}
R=build/src/cli/main.js
npx tsc -p tsconfig.json
mkdir -p "$root"
rows=()
# Runs a step under GNU time: its wall and CPU seconds and peak RSS go into the table.
step() {
  local name=$1
  shift
  /usr/bin/time -f "%e %U %S %M" -o "$root/time.txt" "$@" > "$root/$name.log" 2>&1 || { cat "$root/$name.log"; exit 1; }
  read -r wall user sys kb < "$root/time.txt"
  rows+=("$(printf '%-18s %9s %9s %13.0f' "$name" "$wall" "$(awk "BEGIN{print $user+$sys}")" "$(awk "BEGIN{print $kb/1024}")")")
}
echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(node --version), load $(cut -d' ' -f1-3 /proc/loadavg); model: $model, --init trained --seed 7"
[ -f "$root/calib.tsv" ] || step gen-data-calib node $R gen-data $model --init trained --init-seed 7 --rows "$calib_rows" --seed 11 --teacher as-is -o "$root/calib.tsv"
[ -f "$root/heldout.tsv" ] || step gen-data-heldout node $R gen-data $model --init trained --init-seed 7 --rows "$held_rows" --seed 12 --teacher as-is -o "$root/heldout.tsv"
[ -d "$root/fp32" ] || step compile-fp32 node $R compile $model --init trained --seed 7 --precision fp32 -o "$root/fp32"
limit=()
[ -z "${SEARCH_TIME:-}" ] || limit=(--search-time "$SEARCH_TIME")
rm -rf "$root/auto"
step compile-auto node $R compile $model --init trained --seed 7 --precision auto --ne-budget "$budget" \
  --calib "$root/calib.tsv" --calib-rows "$calib_rows" "${limit[@]}" --plan-out "$root/plan.json" --report "$root/report.md" -o "$root/auto"
step heldout-check node build/bench/fullsize-precision-check.js $model "$root/fp32" "$root/auto" "$root/heldout.tsv" "$held_rows"
printf '%-18s %9s %9s %13s\n' step "wall s" "CPU s" "peak RSS MiB"
printf '%s\n' "${rows[@]}"
node -e 'const p=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(`search: ${p.search.seconds.toFixed(1)} s wall, ${p.search.cpuSeconds.toFixed(1)} s CPU, ${p.search.evaluations} evaluations${p.search.timedOut?" (stopped at --search-time)":""}; expected NE on the calibration rows ${p.neDelta>=0?"+":""}${p.neDelta.toFixed(4)}% ± ${p.neDeltaError.toFixed(4)}%`)' "$root/plan.json"
cat "$root/heldout-check.log"
[ "${KEEP:-0}" = 1 ] || rm -rf "$root"
