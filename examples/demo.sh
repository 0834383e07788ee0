#!/usr/bin/env bash
# The README's first command runs this: the main job end to end on a bundled
# example. Check the model, make trained-looking synthetic weights and Criteo-
# format data drawn from them, show the IR after canonicalization, and run the
# model with the reference interpreter to measure its accuracy.
set -euo pipefail
cd "$(dirname "$0")/.."
rmc() { node build/src/cli/main.js "$@"; }
model=examples/dlrm_kaggle_small.rmdl
out=out/demo
mkdir -p "$out"
set -x
rmc check "$model"
rmc init-weights "$model" --seed 1 --dist trained -o "$out/weights.safetensors"
rmc gen-data "$model" --weights "$out/weights.safetensors" --rows 20000 --seed 7 -o "$out/data.tsv"
rmc data-stats "$out/data.tsv" --model "$model" --top 3 | head -n 20
rmc ir "$model" --passes canonicalize,infer-shapes,dce --time-passes -o "$out/final.ir"
rmc run "$model" --weights "$out/weights.safetensors" --data "$out/data.tsv" --predictions "$out/predictions.tsv"
rmc compile "$model" --weights "$out/weights.safetensors" --target wasm -o "$out/dist" --emit-text
rmc run "$out/dist" --data "$out/data.tsv"
node examples/predict.mjs "$out/dist"
