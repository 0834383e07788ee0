#!/usr/bin/env bash
# Full-size compile benchmark (`npm run bench:fullsize`): compiles
# examples/dlrm_kaggle.rmdl with its full Criteo Kaggle tables (33.8M rows,
# 2.06 GiB in fp32), generated row by row with `--init random --seed 1`, for
# Wasm and for WebGPU, with fp32 and int4 tables, reporting each compile's
# wall time and peak RSS (GNU time), the artifact's size and shards, then
# checks each artifact against the reference interpreter on sampled inputs
# (bench/fullsize-check.ts; the WebGPU check needs an adapter: in Node, the
# `webgpu` package). A config ending in `-st` compiles from a safetensors file
# on disk instead (written first by `rmc init-weights`, same values).
# Artifacts go to out/fullsize/ and are deleted at the end unless KEEP=1.
#   bash bench/fullsize.sh [CONFIG...]   configs: TARGET-PRECISION[-st], TARGET wasm|wgsl,
#   PRECISION fp32|int8|int4 (default: wasm-int4 wasm-fp32 wgsl-int4 wgsl-fp32 wasm-int4-st)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)"; exit 1; }
model=examples/dlrm_kaggle.rmdl
root=out/fullsize
configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=(wasm-int4 wasm-fp32 wgsl-int4 wgsl-fp32 wasm-int4-st)
npx tsc -p tsconfig.json
mkdir -p "$root"
echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(node --version); model: $model, --init random --seed 1"
printf '%-12s %9s %12s %10s %7s  %s\n' config "compile s" "peak RSS MiB" "size MiB" shards check
for config in "${configs[@]}"; do
  IFS=- read -r target precision source <<< "$config"
  dist="$root/$config"
  weights=(--init random --seed 1)
  reference=1
  if [ "$source" = st ]; then
    [ -f "$root/w.safetensors" ] || node build/src/cli/main.js init-weights "$model" --seed 1 --dist gaussian -o "$root/w.safetensors" > /dev/null
    weights=(--weights "$root/w.safetensors")
    reference="$root/w.safetensors"
  fi
  /usr/bin/time -f "%e %M" -o "$root/time.txt" node build/src/cli/main.js compile "$model" "${weights[@]}" \
    --target "$target" --precision "$precision" -o "$dist" > "$root/$config.log" 2>&1 || { cat "$root/$config.log"; exit 1; }
  read -r secs kb < "$root/time.txt"
  size=$(du -sm "$dist" | cut -f1)
  shards=$(ls "$dist" | grep -c '^shard\.' || true)
  check=$(node build/bench/fullsize-check.js "$dist" "$model" "$reference" 256 2>&1 | grep -v '^Warning' | paste -sd " ") || check="FAILED: $check"
  printf '%-12s %9s %12.0f %10s %7s  %s\n' "$config" "$secs" "$(awk "BEGIN{print $kb/1024}")" "$size" "$shards" "$check"
  [ "${KEEP:-0}" = 1 ] || rm -rf "$dist"
done
[ "${KEEP:-0}" = 1 ] || rm -rf "$root"
