#!/usr/bin/env bash
# The fidelity experiment of issue 15: csgnet against the PyTorch reference script
# (../shared/reference/csg_reference.py), ResNet-20 on Fashion-MNIST, cifar preset (lambda 0.1,
# rho 0.1, period 3, phase-min 2), STD and CSG, the same seeds on both sides, one crop offset and
# one flip per batch on both sides (--augment per-batch), accuracy and MIS on the 10,000 test images.
# Runs everything one after the other, single-threaded; rerunning resumes (finished runs are skipped).
#   scripts/fidelity.sh                      # the sizes README's Fidelity section reports
#   EPOCHS=30 LIMIT=0 scripts/fidelity.sh    # full training set, 30 epochs
# Needs the built checkout (dist/) and Debian's python3-torch and python3-sklearn for the reference.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/fidelity}
EPOCHS=${EPOCHS:-9}          # 0..8: epochs 2, 5, 8 are CSG epochs, so the last one is one
LIMIT=${LIMIT:-10000}        # first N training images on both sides (0 = all 60,000)
SEEDS=${SEEDS:-"0 1 2"}
THREADS=${THREADS:-1}
PY=${PY:-/usr/bin/python3}
REF=${REF:-../shared/reference/csg_reference.py}
DATA=${DATA:-/usr/share/datasets/fashion-mnist}
CSGNET=(node dist/src/cli/main.js)
mkdir -p "$OUT/reference"
stamp() { echo "$(date -u +%FT%TZ) $*" >> "$OUT/times.log"; }

stamp "csgnet sweep start"
"${CSGNET[@]}" sweep --out "$OUT/csgnet" --grid 'strategy=std,csg' --seeds "$(echo $SEEDS | tr ' ' ,)" \
  --parallel 1 --threads "$THREADS" --progress plain \
  --dataset fashion-mnist --data-root "$DATA" --model resnet20 --preset cifar --augment per-batch \
  --epochs "$EPOCHS" --limit "$LIMIT"
stamp "csgnet sweep end"
# Analyses each run's last checkpoint on all 10,000 test images (features, MI matrix, MIS) and groups.
"${CSGNET[@]}" compare "$OUT/csgnet" --group-by strategy --threads "$THREADS" --out "$OUT/csgnet/report"
stamp "csgnet compare end"

# The reference: glibc's allocator keeps freed memory instead of returning it to the kernel at once
# (numerics unchanged); without it the reference's 1000-image eval batches spend most of their time
# in page faults (8.8 s against 1.3-2.0 s per 1000 images on one thread, Debian's torch 1.13).
for s in $SEEDS; do
  for st in std csg; do
    f="$OUT/reference/strategy=$st,seed=$s.jsonl"
    if [ -f "$f" ] && grep -q '"final": true' "$f"; then continue; fi
    stamp "reference $st seed $s start"
    MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=68719476736 MALLOC_TOP_PAD_=1073741824 \
      "$PY" "$REF" --data "$DATA" --strategy "$st" --lambda-reg 0.1 --density-target 0.1 \
      --epochs "$EPOCHS" --limit "$LIMIT" --seed "$s" --threads "$THREADS" --tag "$st-$s" > "$f.tmp"
    mv "$f.tmp" "$f"
    stamp "reference $st seed $s end"
  done
done

node scripts/fidelity_stats.mjs --csgnet "$OUT/csgnet/report/comparison.json" --reference "$OUT/reference" --out "$OUT/fidelity.md"
