#!/usr/bin/env bash
# Installs what csgnet needs when it is missing: Debian packages (libtorch, OpenBLAS, Fashion-MNIST, a C++
# toolchain), the npm dependencies, the native addon and the compiled TypeScript. Idempotent.
# Set CSGNET_WITH_PYTHON=1 to also install Debian's python3-torch/python3-sklearn/python3-onnx (benchmarks, goldens),
# CSGNET_WITH_BROWSER=1 for chromium (the browser tests; scripts/test.sh sets it).
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(libtorch-dev libgloo-dev libopenblas0-pthread dataset-fashion-mnist g++ make python3)
# The browser tests (report, dashboard, explorer) drive Debian's chromium; the demo does not need it.
if [ "${CSGNET_WITH_BROWSER:-0}" = 1 ]; then pkgs+=(chromium); fi
if [ "${CSGNET_WITH_PYTHON:-0}" = 1 ]; then pkgs+=(python3-torch python3-sklearn python3-numpy python3-onnx); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ -z "${LIBTORCH:-}" ] || [ "${#missing[@]}" -gt 0 ]; then
  if [ -n "${LIBTORCH:-}" ]; then missing=("${missing[@]/libtorch-dev}"); fi
  if [ "${#missing[@]}" -gt 0 ] && [ -n "$(echo "${missing[@]}" | tr -d ' ')" ]; then
    echo "csgnet setup: installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q ${missing[*]}
  fi
fi

if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "csgnet setup: Node.js >= 20 is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

# Build the addon against the installed Node headers; never download them.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then export npm_config_nodedir=/usr; fi

stamp=node_modules/.csgnet-installed
addon=build/Release/csgnet_native.node
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ ! -f "$addon" ]; then
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund  # onnxruntime-node: never download (its install script fetches CUDA libraries)
  touch "$stamp"
elif [ -n "$(find native binding.gyp -newer "$addon" -print -quit)" ]; then
  # The addon's sources changed since it was built (e.g. after a pull): rebuild it, keep node_modules.
  echo "csgnet setup: rebuilding the native addon (native/ changed)" >&2
  npm run install --no-audit --no-fund  # package.json: node native/build.cjs (node-gyp rebuild, Node's own headers)
  npx tsc -p .
else
  npx tsc -p .
fi
