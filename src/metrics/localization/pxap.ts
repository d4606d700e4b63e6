// PxAP as wsolevaluation computes it (evaluation.py, MaskEvaluator): histograms of the normalized map's
// values at mask and non-mask pixels over the bins [0, 0.01), ..., [0.99, 1), [1, 2), [2, 3], summed over
// the images; tp/fp = reversed cumulative sums; precision = tp / (tp + fp), recall = tp / #mask pixels;
// area = sum over the bins after the first of precision * diff(recall), where tp + fp > 0.
import { checkMaps, checkMasks, checkShape } from './check.js';
import { camThresholds, minMaxNormalize } from './normalize.js';
import { LocalizationMetric } from './per_class.js';

export interface PxAPRecord { pos: Float64Array; neg: Float64Array }

export interface PxAPResult {
  /** Area under the pixel precision-recall curve (a fraction; wsolevaluation prints it times 100); NaN without mask pixels. */
  pxap: number;
}

export class PxAP extends LocalizationMetric<PxAPRecord, PxAPResult> {
  readonly name = 'PxAP';
  private readonly hw: number;
  /** Bin edges: np.append(np.arange(0, 1, 0.01), [1, 2, 3]). */
  private readonly edges: number[];
  constructor(private readonly maps: Float32Array, private readonly masks: Uint8Array, shape: readonly [number, number, number]) {
    checkShape('shape', shape, 3);
    checkMaps('maps', maps, shape);
    checkMasks('masks', masks, shape);
    super(shape[0]);
    this.hw = shape[1] * shape[2];
    this.edges = [...camThresholds(), 1, 2, 3];
  }

  /** np.histogram's bin of v for these ascending edges: the last edge <= v (the last bin is closed). */
  private bin(v: number): number {
    const e = this.edges;
    if (v < e[0] || v > e[e.length - 1]) return -1;
    let lo = 0, hi = e.length - 1; // find the largest i with e[i] <= v
    while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (e[mid] <= v) lo = mid; else hi = mid; }
    return lo;
  }

  perImage(i: number): PxAPRecord {
    const nb = this.edges.length - 1;
    const pos = new Float64Array(nb), neg = new Float64Array(nb);
    const map = minMaxNormalize(this.maps.subarray(i * this.hw, (i + 1) * this.hw));
    for (let p = 0; p < this.hw; p++) {
      const b = this.bin(map[p]);
      if (b < 0) continue;
      if (this.masks[i * this.hw + p]) pos[b]++; else neg[b]++;
    }
    return { pos, neg };
  }

  reduce(records: PxAPRecord[]): PxAPResult {
    const nb = this.edges.length - 1;
    const pos = new Float64Array(nb), neg = new Float64Array(nb);
    for (const r of records) for (let b = 0; b < nb; b++) { pos[b] += r.pos[b]; neg[b] += r.neg[b]; }
    let numPos = 0;
    for (const v of pos) numPos += v;
    if (numPos <= 0) return { pxap: NaN };
    const precision: number[] = [], recall: number[] = [], nonzero: boolean[] = [];
    let tp = 0, fp = 0;
    for (let b = nb - 1; b >= 0; b--) {
      tp += pos[b]; fp += neg[b];
      precision.push(tp / (tp + fp));
      recall.push(tp / numPos);
      nonzero.push(tp + fp !== 0);
    }
    let auc = 0;
    for (let j = 1; j < nb; j++) if (nonzero[j]) auc += precision[j] * (recall[j] - recall[j - 1]);
    return { pxap: auc };
  }
}
