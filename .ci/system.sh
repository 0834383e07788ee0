#!/usr/bin/env bash
# The system packages the test suite needs, checked before every `npm test`
# (the README's test command) and installed with apt-get when this machine
# lets us: Mesa's EGL/GLES drivers (WebGPU through Dawn on the CPU, for the
# WGSL tests), Debian's Chromium (the browser test), and Debian's redis-server
# with redis-cli (the Redis store's tests start a Redis Cluster of their own
# on loopback). Where it cannot install, it stops at once with the command to
# run. RMC_SKIP_SYSTEM=1 skips the check (a developer machine that skips the
# WebGPU, browser and Redis tests with RMC_SKIP_WEBGPU/BROWSER/REDIS=1).
set -euo pipefail
[ "${RMC_SKIP_SYSTEM:-}" = "1" ] && exit 0
need=()
if command -v dpkg >/dev/null 2>&1; then
  for pkg in libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
fi
[ -x /usr/bin/chromium ] || need+=(chromium)
{ command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; } || need+=(redis-server redis-tools)
[ "${#need[@]}" -eq 0 ] && exit 0
cmd="apt-get install -y --no-install-recommends ${need[*]}"
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing the test suite's system packages: ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
  exit 0
fi
echo "the test suite needs system packages this machine lacks: ${need[*]}" >&2
echo "install them with:  sudo apt-get update && sudo $cmd" >&2
echo "(or, on a developer machine, skip those tests: RMC_SKIP_SYSTEM=1 RMC_SKIP_WEBGPU=1 RMC_SKIP_BROWSER=1 RMC_SKIP_REDIS=1 npm test)" >&2
exit 1
