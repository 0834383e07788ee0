#!/usr/bin/env bash
# Data-path benchmark: writes a synthetic Criteo-format file of about 1 GB for
# the small Kaggle-shaped DLRM with `rmc gen-data`, reads it back with
# `rmc data-stats`, and runs the reference interpreter on a slice of it with
# `rmc run`, reporting wall time and peak RSS (GNU time) for each.
#   bash bench/data.sh [ROWS] [DIR]     (default 4200000 rows ≈ 1 GB, in a temp dir)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-4200000}
dir=${2:-$(mktemp -d)}
model=examples/dlrm_kaggle_small.rmdl
rmc() { node build/src/cli/main.js "$@"; }
measure() { # label, command...: prints wall seconds and peak RSS
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$dir/time.txt" "$@" > "$dir/$label.out"
  read -r secs kb < "$dir/time.txt"
  printf '%-12s %8s s  %8.1f MiB peak RSS\n' "$label" "$secs" "$(awk "BEGIN{print $kb/1024}")"
}
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)"; exit 1; }
npx tsc -p tsconfig.json
rmc init-weights "$model" --seed 1 --dist trained -o "$dir/w.safetensors" > /dev/null
echo "machine: $(nproc) cores, $(node --version); rows: $rows; dir: $dir"
measure gen-data node build/src/cli/main.js gen-data "$model" --weights "$dir/w.safetensors" --rows "$rows" --seed 1 -o "$dir/d.tsv"
echo "file: $(du -h "$dir/d.tsv" | cut -f1) ($(stat -c %s "$dir/d.tsv") bytes)"
measure data-stats node build/src/cli/main.js data-stats "$dir/d.tsv" --top 5
measure run-200k node build/src/cli/main.js run "$model" --weights "$dir/w.safetensors" --data "$dir/d.tsv" --limit 200000
grep -E "samples/s|^NE|^AUC" "$dir/run-200k.out"
