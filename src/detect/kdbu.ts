// Kernel density + Bayesian uncertainty (KD+BU, Feinman et al. 2017, rfeinman/detecting-adversarial-samples):
// - KD: one Gaussian kernel density per class on the last-layer features (here the global-average-pooled
//   map that feeds fc) of the training images of that class (their true label); an image is scored by the
//   density of its *predicted* class, as sklearn's KernelDensity(kernel='gaussian', bandwidth).score_samples:
//     log p(f) = logsumexp_i(-|f - t_i|^2 / (2 h^2)) - log n - (K/2) log(2 pi) - K log h;
// - BU: MC-dropout uncertainty, the variance over T stochastic passes (dropout on, everything else in eval
//   mode) of the softmax, averaged over classes (their get_mc_predictions(...).var(0).mean(1), T = 50). A
//   model without dropout layers (every csgnet model today) has none: density alone, with a note;
// - then, as their code, both z-scored (fit split's mean and deviation) and sklearn's LogisticRegressionCV;
//   score = its decision function (log-odds of "adversarial").
// Bandwidth: theirs per dataset (MNIST 1.20, CIFAR-10 0.26); by default 1.20 for grey images, 0.26 for colour.
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { Dropout, type Module } from '../torch/nn/index.js';
import { Detector, checkFlags, type DetectorContext, type DetectorOptions } from './base.js';
import { Standardizer, logisticRegressionCV, type LogisticRegression } from './logistic.js';

export interface KdBuOptions extends DetectorOptions {
  /** the kernel's bandwidth h (default 1.20 for 1-channel images, 0.26 otherwise: Feinman's MNIST and CIFAR values) */
  bandwidth?: number;
  /** MC-dropout passes (default 50, theirs) */
  mcPasses?: number;
}

/** log of sklearn's gaussian KernelDensity fitted on `train` [n, K] at the rows of `x` [N, K] (float64 tensors) -> [N]. */
export function gaussianKdeLogDensity(train: Tensor, x: Tensor, bandwidth: number): Tensor {
  const n = train.shape[0]!, K = train.shape[1]!;
  if (n === 0) throw new Error('gaussianKdeLogDensity: no training sample');
  return torch.tidy(() => {
    const sq = x.square().sum(1, true).add(train.square().sum(1).unsqueeze(0)).sub(x.matmul(train.t()).mul(2)).clampMin(0);   // [N, n]
    const norm = Math.log(n) + (K / 2) * Math.log(2 * Math.PI) + K * Math.log(bandwidth);
    return sq.div(-2 * bandwidth * bandwidth).logsumexp(1).sub(norm);
  });
}

export class KdBuDetector extends Detector {
  readonly name = 'kdbu' as const;
  readonly mcPasses: number;
  private readonly bandwidthOption: number | undefined;
  private perClass: (Tensor | null)[] = [];   // training features of each class, float64 [n_c, K]
  private dropouts: Module[] = [];
  private readonly scaler = new Standardizer();
  private lr: LogisticRegression | null = null;
  /** the C LogisticRegressionCV chose on the last fit */
  chosenC = NaN;

  constructor(o: KdBuOptions = {}) {
    super(o);
    this.bandwidthOption = o.bandwidth;
    if (o.bandwidth !== undefined && !(o.bandwidth > 0 && Number.isFinite(o.bandwidth))) throw new Error(`kdbu: bandwidth must be a positive number, got ${o.bandwidth}`);
    this.mcPasses = o.mcPasses ?? 50;
    if (!(Number.isInteger(this.mcPasses) && this.mcPasses >= 2)) throw new Error(`kdbu: mcPasses must be an integer >= 2, got ${o.mcPasses}`);
  }

  get bandwidth(): number { return this.bandwidthOption ?? (this.model.channels === 1 ? 1.2 : 0.26); }

  /** Whether the model has dropout, i.e. whether BU is a feature. */
  get usesUncertainty(): boolean { return this.dropouts.length > 0; }

  override prepare(ctx: DetectorContext): void {
    super.prepare(ctx);
    const b = ctx.model.backbone, C = b.numClasses, device = b.fc.weight.device;
    const parts: Tensor[][] = Array.from({ length: C }, () => []);
    try {
      for (const batch of ctx.trainBatches()) {
        const y = batch.labels.toFloat64Array();
        for (const l of y) if (!(Number.isInteger(l) && l >= 0 && l < C)) throw new Error(`kdbu: training label ${l} out of range [0, ${C})`);
        torch.tidy(() => torch.noGrad(() => {
          const f = ctx.model.forward(batch.x01.to({ dtype: 'float32', device })).gap.to('float64');
          for (let c = 0; c < C; c++) {
            const rows = [...y.keys()].filter((i) => y[i] === c);
            if (rows.length) parts[c]!.push(torch.keep(f.indexSelect(0, torch.tensor(rows, { dtype: 'int64', device }))));
          }
        }));
      }
      if (parts.every((p) => p.length === 0)) throw new Error('kdbu: trainBatches gave no images');
      this.release();
      this.perClass = parts.map((p) => (p.length ? torch.keep(torch.cat(p)) : null));
    } finally { for (const p of parts) for (const t of p) t.dispose(); }
    this.dropouts = b.modules().filter((m) => m instanceof Dropout);
    if (!this.dropouts.length) ctx.log?.('kdbu: the model has no dropout layer, so no MC-dropout uncertainty: kernel density alone (Feinman et al. use both)');
  }

  /** The features [N, 1 or 2]: log density under the predicted class's KDE, then (with dropout) the MC-dropout uncertainty. */
  features(x01: Tensor): Float64Array {
    const d = this.usesUncertainty ? 2 : 1;
    const n = this.checkImages(x01);
    const out = new Float64Array(n * d);
    const device = this.model.backbone.fc.weight.device;
    for (let s = 0; s < n; s += this.batchSize) {
      const m = Math.min(this.batchSize, n - s);
      torch.tidy(() => torch.noGrad(() => {
        const x = x01.narrow(0, s, m).to({ dtype: 'float32', device });
        const { logits, gap } = this.model.forward(x);
        const pred = logits.argmax(1).toFloat64Array(), f = gap.to('float64');
        const u = this.usesUncertainty ? this.uncertainty(x) : null;
        for (const c of new Set(pred)) {
          const rows = [...pred.keys()].filter((i) => pred[i] === c);
          const kde = this.perClass[c];
          if (!kde) throw new Error(`kdbu: image ${s + rows[0]!} is predicted as class ${c}, which has no training image`);
          const logp = gaussianKdeLogDensity(kde, f.indexSelect(0, torch.tensor(rows, { dtype: 'int64', device })), this.bandwidth).toFloat64Array();
          rows.forEach((i, k) => { out[(s + i) * d] = logp[k]!; });
        }
        if (u) for (let i = 0; i < m; i++) out[(s + i) * d + 1] = u[i]!;
      }));
    }
    return out;
  }

  /** Variance over MC-dropout passes of the softmax, mean over classes [N] (dropout on, the rest in eval mode). */
  private uncertainty(x: Tensor): Float64Array {
    for (const m of this.dropouts) m.training = true;
    try {
      const p = torch.stack(Array.from({ length: this.mcPasses }, () => torch.F.softmax(this.model.logits(x), 1).to('float64')));
      return p.var(0, false).mean(1).toFloat64Array();
    } finally { for (const m of this.dropouts) m.training = false; }
  }

  override fit(x01: Tensor, adversarial: Uint8Array): void {
    const f = this.features(x01);
    checkFlags(this.name, x01.shape[0]!, adversarial);
    const d = this.usesUncertainty ? 2 : 1;
    this.scaler.fit(f, d);
    const r = logisticRegressionCV(this.scaler.transform(f), adversarial, d);
    this.lr = r.model; this.chosenC = r.C;
  }

  score(x01: Tensor): Float64Array {
    void this.model;   // 'call prepare' comes first
    if (!this.lr) throw new Error(`${this.name}: call fit(x01, adversarial) on the detection split before score`);
    return this.lr.decisionFunction(this.scaler.transform(this.features(x01)));
  }

  private release(): void { for (const t of this.perClass) t?.dispose(); this.perClass = []; }

  override dispose(): void { this.release(); }
}
