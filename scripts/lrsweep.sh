#!/usr/bin/env bash
# The lambda/rho sweep of issue 15: ResNet-20 on Fashion-MNIST, cifar preset, CSG against STD paired
# by seed, accuracy and MIS on the 10,000 test images. Two lengths:
#   short: lambda 0.01, 0.1, 1 x rho 0.05, 0.1, 0.2, 2 seeds, first 5,000 training images, 6 epochs
#          (epochs 2 and 5 are CSG epochs), default per-sample augmentation;
#   long:  lambda 0.01, 0.1, 1 at rho 0.1 and rho 0.2 at lambda 0.1, 3 seeds, the fidelity
#          experiment's length (10,000 images, 9 epochs, --augment per-batch).
# STD ignores lambda and rho, so each grid holds one STD run per seed. One thread per run, PARALLEL runs
# at a time; rerunning resumes (finished runs are skipped). README's "Sweeps and error bars" reports it.
#   scripts/lrsweep.sh                # both lengths (about 30 + 45 minutes on 2 cores)
#   PARTS=short scripts/lrsweep.sh    # one of them
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/lrsweep}
PARALLEL=${PARALLEL:-2}
PARTS=${PARTS:-"short long"}
DATA=${DATA:-/usr/share/datasets/fashion-mnist}
CSGNET=(node dist/src/cli/main.js)
RUN=(--parallel "$PARALLEL" --threads "$PARALLEL" --progress plain --dataset fashion-mnist --data-root "$DATA" --model resnet20 --preset cifar)
stamp() { mkdir -p "$OUT"; echo "$(date -u +%FT%TZ) $*" >> "$OUT/times.log"; }

for part in $PARTS; do
  case $part in
    short)
      stamp "short start"
      "${CSGNET[@]}" sweep --out "$OUT/short" --grid 'strategy=std,csg;lambda=0.01,0.1,1;rho=0.05,0.1,0.2' --seeds 2 \
        "${RUN[@]}" --epochs 6 --limit 5000
      "${CSGNET[@]}" compare "$OUT/short" --group-by strategy,lambda,rho --threads "$PARALLEL" --out "$OUT/short/report"
      stamp "short end" ;;
    long)
      stamp "long start"
      "${CSGNET[@]}" sweep --out "$OUT/long" --grid 'strategy=std,csg;lambda=0.01,0.1,1' --seeds 3 \
        "${RUN[@]}" --augment per-batch --epochs 9 --limit 10000
      "${CSGNET[@]}" sweep --out "$OUT/long-rho" --grid 'strategy=csg;rho=0.2' --seeds 3 \
        "${RUN[@]}" --augment per-batch --epochs 9 --limit 10000
      "${CSGNET[@]}" compare "$OUT/long" "$OUT/long-rho" --group-by strategy,lambda,rho --threads "$PARALLEL" --out "$OUT/long/report"
      stamp "long end" ;;
    *) echo "PARTS: unknown part '$part' (short, long)" >&2; exit 2 ;;
  esac
done
