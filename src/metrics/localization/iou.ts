// The released code's mask conventions (method.md section 5): top-30 % binarization and
// IoU(b, m) = sum(min(b, m)) / sum(max(b, m)) over binary maps.
import { checkMasks, checkMaps, checkShape } from './check.js';
import { LocalizationMetric, meanInOrder } from './per_class.js';

/**
 * The threshold that keeps the top `fraction` of the values: `top = int(count * fraction)`,
 * `thr = sort(values)[-top]` (ascending); `top = 0` gives sort(values)[0] (Python's [-0]), i.e. everything.
 */
export function topThreshold(values: Float32Array, fraction = 0.3): number {
  const top = Math.trunc(values.length * fraction);
  const sorted = Float32Array.from(values).sort();
  return sorted[top === 0 ? 0 : sorted.length - top];
}

/** Binarizes `map` with `map >= thr` (ties at the threshold are kept, so more than top pixels may pass). */
export function binarizeTop(map: Float32Array, fraction = 0.3): Uint8Array {
  const thr = topThreshold(map, fraction);
  const b = new Uint8Array(map.length);
  for (let i = 0; i < map.length; i++) b[i] = map[i] >= thr ? 1 : 0;
  return b;
}

/** IoU of two binary maps: sum(min) / sum(max); 0 when both are empty (union 0). */
export function maskIoU(b: ArrayLike<number>, m: ArrayLike<number>, offsetB = 0, offsetM = 0, count = b.length): number {
  let inter = 0, union = 0;
  for (let i = 0; i < count; i++) {
    const x = b[offsetB + i], y = m[offsetM + i];
    if (x && y) inter++;
    if (x || y) union++;
  }
  return union === 0 ? 0 : inter / union;
}

export interface IoUSummary {
  /** Mean IoU over the images. */
  meanIoU: number;
  /** Share of images whose IoU passes the hit threshold (the released code's "AP"). */
  hitRate: number;
}

/**
 * CAM-style maps [N, H, W] scored as the released code does: keep the top 30 % of each map's pixels
 * (`>= sort(map)[-int(H*W*0.3)]`), IoU with the mask; hit when IoU > 0.3.
 */
export class TopFractionIoU extends LocalizationMetric<number, IoUSummary> {
  readonly name = 'top-fraction IoU';
  private readonly hw: number;
  constructor(private readonly maps: Float32Array, private readonly masks: Uint8Array, shape: readonly [number, number, number],
    private readonly opts: { fraction?: number; hitAbove?: number } = {}) {
    checkShape('shape', shape, 3);
    checkMaps('maps', maps, shape);
    checkMasks('masks', masks, shape);
    super(shape[0]);
    this.hw = shape[1] * shape[2];
  }

  perImage(i: number): number {
    const map = this.maps.subarray(i * this.hw, (i + 1) * this.hw);
    return maskIoU(binarizeTop(map, this.opts.fraction ?? 0.3), this.masks, 0, i * this.hw, this.hw);
  }

  reduce(ious: number[]): IoUSummary {
    const above = this.opts.hitAbove ?? 0.3;
    return { meanIoU: meanInOrder(ious), hitRate: meanInOrder(ious.map((v) => (v > above ? 1 : 0))) };
  }
}

/**
 * GradMap (method.md section 5, the metric half): maps [N, F, H, W] hold, per image, the F processed
 * gradient maps (RMS-normalized, blurred) of the filters chosen for its class. Each is binarized at
 * `> 1`, its IoU with the mask taken, and the F IoUs averaged; hit when the mean IoU >= 0.2.
 */
export class GradMapIoU extends LocalizationMetric<number, IoUSummary> {
  readonly name = 'GradMap IoU';
  private readonly f: number;
  private readonly hw: number;
  constructor(private readonly maps: Float32Array, private readonly masks: Uint8Array, shape: readonly [number, number, number, number],
    private readonly opts: { binarizeAbove?: number; hitAtLeast?: number } = {}) {
    checkShape('shape', shape, 4);
    checkMaps('maps', maps, shape);
    checkMasks('masks', masks, [shape[0], shape[2], shape[3]]);
    super(shape[0]);
    this.f = shape[1];
    this.hw = shape[2] * shape[3];
  }

  perImage(i: number): number {
    const above = this.opts.binarizeAbove ?? 1;
    const ious: number[] = [];
    for (let k = 0; k < this.f; k++) {
      const off = (i * this.f + k) * this.hw;
      const b = new Uint8Array(this.hw);
      for (let p = 0; p < this.hw; p++) b[p] = this.maps[off + p] > above ? 1 : 0;
      ious.push(maskIoU(b, this.masks, 0, i * this.hw, this.hw));
    }
    return meanInOrder(ious);
  }

  reduce(ious: number[]): IoUSummary {
    return GradMapIoU.summarize(ious, this.opts);
  }

  /** The reduction alone, for per-image IoUs gathered batch by batch (no maps needed): mean IoU, hit when >= 0.2. */
  static summarize(ious: readonly number[], opts: { hitAtLeast?: number } = {}): IoUSummary {
    const atLeast = opts.hitAtLeast ?? 0.2;
    return { meanIoU: meanInOrder(ious), hitRate: meanInOrder(ious.map((v) => (v >= atLeast ? 1 : 0))) };
  }
}
