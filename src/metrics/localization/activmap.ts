// ActivMap (method.md section 5, the metric half): each filter's upsampled activation map binarized at
// its own threshold T_k, IoU with the mask, accumulated per (filter, class); each filter's related class
// is the argmax of its success rate; per class the related-filter number (RFN), mean IoU and success rate.
import { checkLabels, checkMaps, checkMasks, checkShape } from './check.js';
import { maskIoU, topThreshold } from './iou.js';

/**
 * T_k for activations [N, K, h, w]: the value reached by the top `fraction` of all N x h x w values of
 * filter k (sorted ascending, `[-int(fraction * count)]`).
 */
export function activMapThresholds(acts: Float32Array, shape: readonly [number, number, number, number], fraction = 0.3): Float32Array {
  checkShape('shape', shape, 4);
  checkMaps('acts', acts, shape);
  const [n, k, h, w] = shape;
  const hw = h * w;
  const t = new Float32Array(k);
  const vals = new Float32Array(n * hw);
  for (let f = 0; f < k; f++) {
    for (let i = 0; i < n; i++) vals.set(acts.subarray((i * k + f) * hw, (i * k + f + 1) * hw), i * hw);
    t[f] = topThreshold(vals, fraction);
  }
  return t;
}

export interface ActivMapClass {
  /** Related-filter number: filters whose related class is this one. */
  rfn: number;
  /** Mean over the related filters of their mean IoU on this class (NaN when rfn is 0). */
  meanIoU: number;
  /** Mean over the related filters of their success rate on this class (NaN when rfn is 0). */
  successRate: number;
}

export interface ActivMapResult {
  /** [K][C] mean IoU of filter k over the images of class c (0 for a class without images). */
  iou: number[][];
  /** [K][C] share of class-c images with IoU > hitAbove for filter k. */
  success: number[][];
  /** [K] argmax_c success[k][c] (ties: lowest class). */
  relatedClass: number[];
  perClass: ActivMapClass[];
  /** Filter-weighted totals: mean over all filters of iou / success at their related class. */
  overall: { meanIoU: number; successRate: number; filters: number };
}

/**
 * ActivMap's sums over images, fed a batch at a time (the maps of a whole evaluation set, N x K x H x W,
 * need not exist at once): per (filter, class) the IoU sum and the hits, in image order.
 */
export class ActivMapAccumulator {
  private readonly count: number[];
  private readonly iouSum: number[][];
  private readonly hits: number[][];

  constructor(readonly numFilters: number, readonly numClasses: number, private readonly thresholds: ArrayLike<number>, private readonly hitAbove = 0.3) {
    if (thresholds.length !== numFilters) throw new Error(`thresholds: ${thresholds.length} values for ${numFilters} filters`);
    for (let f = 0; f < numFilters; f++) if (!Number.isFinite(thresholds[f])) throw new Error(`thresholds: T[${f}] = ${thresholds[f]} is not finite`);
    this.count = new Array<number>(numClasses).fill(0);
    this.iouSum = Array.from({ length: numFilters }, () => new Array<number>(numClasses).fill(0));
    this.hits = Array.from({ length: numFilters }, () => new Array<number>(numClasses).fill(0));
  }

  /** maps [n, K, H, W] of n more images, their masks [n, H, W] and labels [n]. */
  add(maps: Float32Array, shape: readonly [number, number, number, number], masks: Uint8Array, labels: ArrayLike<number>): this {
    checkShape('shape', shape, 4);
    const [n, k, h, w] = shape;
    if (k !== this.numFilters) throw new Error(`maps: ${k} filters, expected ${this.numFilters}`);
    checkMaps('maps', maps, shape);
    checkMasks('masks', masks, [n, h, w]);
    checkLabels('labels', labels, n, this.numClasses);
    const hw = h * w;
    const b = new Uint8Array(hw);
    for (let i = 0; i < n; i++) {
      const c = Number(labels[i]);
      this.count[c]++;
      for (let f = 0; f < k; f++) {
        const off = (i * k + f) * hw, t = this.thresholds[f];
        for (let p = 0; p < hw; p++) b[p] = maps[off + p] >= t ? 1 : 0;
        const v = maskIoU(b, masks, 0, i * hw, hw);
        this.iouSum[f][c] += v;
        if (v > this.hitAbove) this.hits[f][c]++;
      }
    }
    return this;
  }

  result(): ActivMapResult {
    const { count, numClasses } = this, k = this.numFilters;
    const iou = this.iouSum.map((row) => row.map((s, c) => (count[c] ? s / count[c] : 0)));
    const success = this.hits.map((row) => row.map((s, c) => (count[c] ? s / count[c] : 0)));
    const relatedClass = success.map((row) => row.reduce((best, v, c) => (v > row[best] ? c : best), 0));
    const perClass: ActivMapClass[] = [];
    for (let c = 0; c < numClasses; c++) {
      let rfn = 0, si = 0, ss = 0;
      for (let f = 0; f < k; f++) if (relatedClass[f] === c) { rfn++; si += iou[f][c]; ss += success[f][c]; }
      perClass.push({ rfn, meanIoU: rfn ? si / rfn : NaN, successRate: rfn ? ss / rfn : NaN });
    }
    let ti = 0, ts = 0;
    for (let f = 0; f < k; f++) { ti += iou[f][relatedClass[f]]; ts += success[f][relatedClass[f]]; }
    return { iou, success, relatedClass, perClass, overall: { meanIoU: ti / k, successRate: ts / k, filters: k } };
  }
}

/**
 * maps [N, K, H, W]: the upsampled activation map of every filter for every image; thresholds [K];
 * masks [N, H, W]; labels [N].
 */
export function activMapLocalization(maps: Float32Array, shape: readonly [number, number, number, number], thresholds: ArrayLike<number>,
  masks: Uint8Array, labels: ArrayLike<number>, numClasses: number, hitAbove = 0.3): ActivMapResult {
  checkShape('shape', shape, 4);
  return new ActivMapAccumulator(shape[1], numClasses, thresholds, hitAbove).add(maps, shape, masks, labels).result();
}
