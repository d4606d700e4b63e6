#!/usr/bin/env bash
# The test command: installs what is missing, then runs the whole suite (node's test runner).
set -euo pipefail
cd "$(dirname "$0")/.."
CSGNET_WITH_BROWSER=1 bash scripts/setup.sh
npm test
