// Mahalanobis detector (Lee et al. 2018, last layer only): class-conditional Gaussians with a tied
// covariance on the global-average-pooled last-layer features, fitted on the model's training set as in
// their code: sample class means, covariance = sklearn EmpiricalCovariance of the class-centred features
// (the mean of their outer products), precision = its pseudo-inverse (scipy pinvh). All in float64.
// Score = min_c (f - mu_c)^T P (f - mu_c), the squared distance to the closest class: minus the paper's
// confidence M(x) = max_c -(f - mu_c)^T P (f - mu_c) (their code's 0.5 factor changes no ranking).
// Input pre-processing (optional): x' = x - noise * sign(d min_c distance / dx) in pixel space, with their
// code's sign (a zero gradient counts as +), no clipping; the score is then taken at x'.
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { Detector, type DetectorContext, type DetectorOptions } from './base.js';
import { pinvSymmetric } from './linalg.js';

export interface MahalanobisOptions extends DetectorOptions {
  /** input pre-processing magnitude in pixel units (default 0: none) */
  noise?: number;
}

export class MahalanobisDetector extends Detector {
  readonly name = 'mahalanobis' as const;
  readonly noise: number;
  private means: Tensor | null = null;       // [C, K] float64
  private precision: Tensor | null = null;   // [K, K] float64

  constructor(o: MahalanobisOptions = {}) {
    super(o);
    this.noise = o.noise ?? 0;
    if (!(this.noise >= 0 && Number.isFinite(this.noise))) throw new Error(`mahalanobis: noise must be a finite number >= 0, got ${o.noise}`);
  }

  override prepare(ctx: DetectorContext): void {
    super.prepare(ctx);
    const b = ctx.model.backbone;
    const K = b.numFilters, C = b.numClasses;
    const device = b.fc.weight.device;
    // features per class, kept in JS (N x K float64: 50,000 x 512 is 200 MB at most)
    const feats: Float64Array[] = [];
    const labels: number[] = [];
    for (const batch of ctx.trainBatches()) {
      const f = torch.tidy(() => torch.noGrad(() => ctx.model.forward(batch.x01.to({ dtype: 'float32', device })).gap.to('float64').toFloat64Array()));
      const y = batch.labels.toFloat64Array();
      if (f.length !== y.length * K) throw new Error(`mahalanobis: a training batch has ${y.length} labels for ${f.length / K} images`);
      for (const l of y) if (!(Number.isInteger(l) && l >= 0 && l < C)) throw new Error(`mahalanobis: training label ${l} out of range [0, ${C})`);
      feats.push(f); labels.push(...y);
    }
    const n = labels.length;
    if (n === 0) throw new Error('mahalanobis: trainBatches gave no images');
    const all = new Float64Array(n * K);
    let off = 0;
    for (const f of feats) { all.set(f, off); off += f.length; }
    const counts = new Float64Array(C), mu = new Float64Array(C * K);
    for (let i = 0; i < n; i++) { counts[labels[i]!]!++; for (let k = 0; k < K; k++) mu[labels[i]! * K + k]! += all[i * K + k]!; }
    const missing = [...counts.keys()].filter((c) => counts[c] === 0);
    if (missing.length) throw new Error(`mahalanobis: the training images hold no sample of class ${missing.join(', ')}: every class needs a mean`);
    for (let c = 0; c < C; c++) for (let k = 0; k < K; k++) mu[c * K + k]! /= counts[c]!;
    // EmpiricalCovariance(assume_centered=False) on the class-centred features: it centres them again
    // (their mean is zero up to rounding) and averages the outer products over all n
    for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) all[i * K + k]! -= mu[labels[i]! * K + k]!;
    const centre = new Float64Array(K);
    for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) centre[k]! += all[i * K + k]! / n;
    const cov = new Float64Array(K * K);
    const row = new Float64Array(K);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < K; k++) row[k] = all[i * K + k]! - centre[k]!;
      for (let a = 0; a < K; a++) { const ra = row[a]! / n; if (ra !== 0) for (let b2 = a; b2 < K; b2++) cov[a * K + b2]! += ra * row[b2]!; }
    }
    for (let a = 0; a < K; a++) for (let b2 = 0; b2 < a; b2++) cov[a * K + b2] = cov[b2 * K + a]!;
    const prec = pinvSymmetric(cov, K);
    this.release();
    this.means = torch.keep(torch.fromTypedArray(mu, [C, K]).to({ device }));
    this.precision = torch.keep(torch.fromTypedArray(prec, [K, K]).to({ device }));
  }

  /** Squared Mahalanobis distance of each image's features to each class mean [N, C] (float64, differentiable). */
  distances(x01: Tensor): Tensor {
    const mu = this.means, P = this.precision;
    if (!mu || !P) throw new Error('mahalanobis: call prepare(ctx) before score');
    return torch.tidy(() => {
      const f = this.model.forward(x01).gap.to('float64');           // [N, K]
      const diff = f.unsqueeze(1).sub(mu.unsqueeze(0));              // [N, C, K]
      return diff.matmul(P).mul(diff).sum(2);
    });
  }

  score(x01: Tensor): Float64Array {
    return this.scoreInBatches(x01, (x) => {
      let input = x;
      if (this.noise > 0) {
        const xin = x.detach().requiresGrad_(true);
        const g = torch.grad(torch.enableGrad(() => this.distances(xin).min(1)[0].sum()), xin)[0]!;
        input = x.sub(g.ge(0).to(x.dtype).mul(2).sub(1).mul(this.noise));
      }
      return torch.noGrad(() => this.distances(input).amin(1).toFloat64Array());
    });
  }

  /** The class means [C, K] and precision [K, K] (float64), for inspection and tests. */
  get gaussians(): { means: Tensor; precision: Tensor } {
    if (!this.means || !this.precision) throw new Error('mahalanobis: call prepare(ctx) first');
    return { means: this.means, precision: this.precision };
  }

  private release(): void { this.means?.dispose(); this.precision?.dispose(); this.means = this.precision = null; }

  override dispose(): void { this.release(); }
}
