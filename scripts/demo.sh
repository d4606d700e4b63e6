#!/usr/bin/env bash
# The main job: trains an STD and a CSG ResNet-20 on Fashion-MNIST and compares them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node dist/src/cli/main.js demo "$@"
