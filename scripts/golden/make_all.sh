#!/usr/bin/env bash
# Regenerates every golden file in test/golden/ with Debian's own python3 (python3-torch, python3-sklearn).
set -euo pipefail
cd "$(dirname "$0")"
PY=${CSGNET_PYTHON:-/usr/bin/python3}
for s in ops.py nn_models.py optim.py mutual_info.py analysis.py csg_step.py localization.py explain.py attacks.py attacks_extra.py detection.py stats.py; do
  echo "== $s" >&2
  "$PY" "$s"
done
