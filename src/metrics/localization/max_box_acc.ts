// MaxBoxAccV2 as wsolevaluation computes it (Choe et al., CVPR 2020; evaluation.py, BoxEvaluator with
// multi_contour_eval and iou_threshold_list [30, 50, 70]).
import { checkBoxes, checkMaps, checkShape } from './check.js';
import { bestBoxIoUs } from './sweep.js';
import { camThresholds, minMaxNormalize, quantize255 } from './normalize.js';
import { LocalizationMetric } from './per_class.js';

export interface MaxBoxAccResult {
  /** Mean over delta of the best accuracy over tau (a fraction; wsolevaluation prints it times 100). */
  maxBoxAccV2: number;
  /** Per IoU threshold delta (in %, as wsolevaluation keys them): the best accuracy over tau and its first tau. */
  perDelta: { delta: number; accuracy: number; tau: number }[];
}

/**
 * Per image: the map is min-max normalized (float32) and quantized to 8 bits, `q = uint8(map * 255)`;
 * at each tau in 0, 0.01, ..., 0.99 the foreground is `q > int(tau * max(q))` (cv2.threshold
 * THRESH_BINARY); a box around every contour (see components.ts); the record is the best IoU of any box
 * with the ground-truth box, per tau. Reduced: correct at (tau, delta) when best IoU >= delta / 100;
 * accuracy = correct / images; MaxBoxAccV2 = mean over delta of max over tau.
 */
export class MaxBoxAccV2 extends LocalizationMetric<Float64Array, MaxBoxAccResult> {
  readonly name = 'MaxBoxAccV2';
  private readonly h: number;
  private readonly w: number;
  private readonly taus: number[];
  private readonly deltas: number[];
  private readonly holes: boolean;
  constructor(private readonly maps: Float32Array, private readonly boxes: ArrayLike<number>, shape: readonly [number, number, number],
    opts: { deltas?: number[]; holes?: boolean } = {}) {
    checkShape('shape', shape, 3);
    checkMaps('maps', maps, shape);
    checkBoxes('boxes', boxes, shape[0], shape[1], shape[2]);
    super(shape[0]);
    [, this.h, this.w] = shape;
    this.taus = camThresholds();
    this.deltas = opts.deltas ?? [30, 50, 70];
    this.holes = opts.holes ?? true;
  }

  perImage(i: number): Float64Array {
    const hw = this.h * this.w;
    const q = quantize255(minMaxNormalize(this.maps.subarray(i * hw, (i + 1) * hw)));
    let qmax = 0;
    for (const v of q) if (v > qmax) qmax = v;
    const thr = this.taus.map((tau) => Math.trunc(tau * qmax));
    const byThr = bestBoxIoUs(q, this.h, this.w, thr, this.boxes, 4 * i, this.holes);
    return Float64Array.from(thr, (t) => byThr.get(t)!);
  }

  reduce(records: Float64Array[]): MaxBoxAccResult {
    const perDelta = this.deltas.map((delta) => {
      let accuracy = -1, tau = 0;
      this.taus.forEach((tv, t) => {
        let correct = 0;
        for (const r of records) if (r[t] >= delta / 100) correct++;
        const acc = correct / records.length;
        if (acc > accuracy) { accuracy = acc; tau = tv; }
      });
      return { delta, accuracy, tau };
    });
    let s = 0;
    for (const d of perDelta) s += d.accuracy;
    return { maxBoxAccV2: s / perDelta.length, perDelta };
  }
}
