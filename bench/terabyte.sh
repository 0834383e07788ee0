#!/usr/bin/env bash
# The Terabyte DLRM (examples/dlrm_terabyte.rmdl: 12.9 GiB of fp32 tables) on
# this one machine: `rmc compile --init random` with no other options (the
# compiler moves the tables that do not fit into the file store), then
# `rmc run` of the artifact and of the reference interpreter on the same
# synthetic samples, whose predictions must be byte-identical. Reports wall
# time and peak RSS (GNU time) of each step.
#   bash bench/terabyte.sh [SAMPLES] [DIR]     (default 512 samples, in a temp dir)
set -euo pipefail
cd "$(dirname "$0")/.."
samples=${1:-512}
dir=${2:-$(mktemp -d)}
model=examples/dlrm_terabyte.rmdl
measure() { # label, command...: prints wall seconds and peak RSS
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$dir/time.txt" "$@" > "$dir/$label.out"
  read -r secs kb < "$dir/time.txt"
  printf '%-12s %8s s  %8.1f MiB peak RSS\n' "$label" "$secs" "$(awk "BEGIN{print $kb/1024}")"
}
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)"; exit 1; }
npx tsc -p tsconfig.json
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(node --version); dir: $dir"
measure compile node build/src/cli/main.js compile "$model" --init random --seed 1 -o "$dir/dist"
grep -iE "store|placed|moved" "$dir/compile.out" | head -8 || true
echo "artifact: $(du -sh "$dir/dist" | cut -f1), store: $(du -sh "$dir/dist/store" | cut -f1)"
measure gen-data node build/src/cli/main.js gen-data "$model" --init random --init-seed 1 --rows "$samples" --seed 7 -o "$dir/d.tsv"
measure run-artifact node build/src/cli/main.js run "$dir/dist" --data "$dir/d.tsv" --predictions "$dir/artifact.tsv"
measure run-interp node build/src/cli/main.js run "$model" --init random --seed 1 --data "$dir/d.tsv" --predictions "$dir/interp.tsv"
n=$(($(wc -l < "$dir/artifact.tsv") - 1))
if cmp -s "$dir/artifact.tsv" "$dir/interp.tsv"; then echo "predictions: $n samples, byte-identical to the interpreter's"; else echo "predictions DIFFER from the interpreter's"; exit 1; fi
