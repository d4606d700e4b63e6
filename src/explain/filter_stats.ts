// Per-filter statistics over an evaluation set that several explainers need: the mean activation of
// every filter on every class (CSG-CAM's filter-to-class assignment for STD models, GradMap's top
// filters per class) and ActivMap's per-filter thresholds T_k (method.md section 5).
import * as torch from '../torch/index.js';
import { activMapThresholds } from '../metrics/localization/activmap.js';
import type { Tensor } from '../torch/index.js';
import type { CsgBackbone } from '../models/types.js';
import { gateAssignment } from '../metrics/analysis.js';

export interface LabelledBatch { x: Tensor; labels: Tensor }

/**
 * Mean activation per (filter, class): the mean over the images of class c of filter k's spatial mean
 * activation, accumulated batch by batch (eval mode, inference only).
 */
export class FilterClassStats {
  private readonly sums: Float64Array;
  private readonly counts: Float64Array;

  constructor(readonly numFilters: number, readonly numClasses: number) {
    this.sums = new Float64Array(numFilters * numClasses);
    this.counts = new Float64Array(numClasses);
  }

  static of(model: CsgBackbone, batches: Iterable<LabelledBatch>): FilterClassStats {
    const s = new FilterClassStats(model.numFilters, model.numClasses);
    for (const b of batches) s.update(model, b.x, b.labels);
    return s;
  }

  update(model: CsgBackbone, x: Tensor, labels: Tensor): void {
    if (model.training) throw new Error('FilterClassStats: the model is in training mode; call model.eval() first');
    const m = torch.tidy(() => torch.noGrad(() => model.features(x).mean([2, 3]).to('float64').toFloat64Array()));
    const y = labels.toFloat64Array();
    const K = this.numFilters, C = this.numClasses;
    if (m.length !== y.length * K) throw new Error(`FilterClassStats: ${m.length / Math.max(1, y.length)} filters per image, expected ${K}`);
    for (let n = 0; n < y.length; n++) {
      const c = y[n]!;
      if (!(Number.isInteger(c) && c >= 0 && c < C)) throw new Error(`FilterClassStats: label ${c} out of range [0, ${C})`);
      this.counts[c]! += 1;
      for (let k = 0; k < K; k++) this.sums[k * C + c]! += m[n * K + k]!;
    }
  }

  /** [K * C] row-major; NaN for a class without images. */
  meanActivation(): Float64Array {
    const C = this.numClasses;
    return this.sums.map((s, i) => (this.counts[i % C]! > 0 ? s / this.counts[i % C]! : NaN));
  }

  /**
   * The 0/1 gate [K, C] of an STD model: each filter assigned to the class of its highest mean activation
   * (NaN ignored, ties to the lowest class: gateAssignment's rule), so that CSG-CAM compares STD with CSG.
   */
  assignmentGate(): Tensor {
    const K = this.numFilters, C = this.numClasses;
    const a = gateAssignment(this.meanActivation(), K, C);
    const g = new Float32Array(K * C);
    for (let k = 0; k < K; k++) g[k * C + a[k]!] = 1;
    return torch.fromTypedArray(g, [K, C]);   // host: CsgCam moves its gate to the features' device and dtype
  }

  /** Per class, the n filters (all K if fewer) of highest mean activation, best first (ties: lower index first). */
  topFilters(n = 30): number[][] {
    const K = this.numFilters, C = this.numClasses, mean = this.meanActivation();
    const m = Math.min(n, K);
    const key = (k: number, c: number): number => { const v = mean[k * C + c]!; return Number.isNaN(v) ? -Infinity : v; };
    return Array.from({ length: C }, (_, c) => Array.from({ length: K }, (_, k) => k).sort((a, b) => key(b, c) - key(a, c) || a - b).slice(0, m));
  }
}

/**
 * ActivMap's per-filter thresholds T_k [K] of a model on an evaluation set: its last-layer activations
 * [N, K, h, w] gathered batch by batch, then the metric's own rule (metrics/localization
 * activMapThresholds: the top-30 % value of each filter's N x h x w activations). Holds every activation
 * of the set at once (10,000 images of 16 x 16 x 64 maps take 655 MB).
 */
export function activationThresholds(model: CsgBackbone, batches: Iterable<{ x: Tensor }>, fraction = 0.3): Tensor {
  if (model.training) throw new Error('activationThresholds: the model is in training mode; call model.eval() first');
  const parts: Float32Array[] = [];
  let shape: number[] = [];
  for (const b of batches) {
    torch.tidy(() => torch.noGrad(() => {
      const a = model.features(b.x).contiguous();
      shape = shape.length ? [shape[0] + a.shape[0], ...a.shape.slice(1)] : a.shape;
      parts.push(a.data() as Float32Array);
    }));
  }
  if (!parts.length) throw new Error('activationThresholds: no batches');
  const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) { all.set(p, off); off += p.length; }
  return torch.tensor(activMapThresholds(all, shape as [number, number, number, number], fraction));   // host: read back by the metric
}
