#!/usr/bin/env bash
# Regenerates every golden file in test/golden/ with Debian's own python3 (python3-torch, python3-sklearn).
set -euo pipefail
cd "$(dirname "$0")"
PY=${CSGNET_PYTHON:-/usr/bin/python3}
# One script per line, in dependency order (explain*.py reuse nn_models.py's weights).
SCRIPTS=(
  ops.py
  nn_models.py
  optim.py
  mutual_info.py
  analysis.py
  csg_step.py
  localization.py
  explain.py
  explain_attr.py
  explain_cam.py
  faithfulness.py
  attacks.py
  attacks_extra.py
  detection.py
  detection_extra.py
  stats.py
)
for s in "${SCRIPTS[@]}"; do
  echo "== $s" >&2
  "$PY" "$s"
done
