// Detectors built on the class-specific gate (ours; method.md section 6). With a_k(x) the global-average-
// pooled last-layer activations and y_hat the prediction, the gate consistency
//   s(x) = sum_k G[k, y_hat] a_k(x) / sum_k a_k(x)
// is the share of the activation mass carried by the predicted class's filters; an adversarial image keeps
// the source class's filters active, so low s = adversarial. An STD model has no G: its filters are
// assigned to the class of their highest mean activation on the training set (FilterClassStats, the
// assignment CSG-CAM uses for STD models).
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import type { PixelModel } from '../attack/pixel_model.js';
import { FilterClassStats } from '../explain/filter_stats.js';
import { Detector, checkFlags, type DetectorContext, type DetectorOptions } from './base.js';
import { LogisticRegression, Standardizer } from './logistic.js';

/** Whole activation mass below this counts as none (s = 0: an image that activates no filter is suspect). */
const MIN_MASS = 1e-12;

function checkAssignment(assignment: Tensor, filters: number, classes: number, what: string): void {
  if (assignment.ndim !== 2 || assignment.shape[0] !== filters || assignment.shape[1] !== classes) {
    throw new Error(`${what}: the gate/assignment must be [${filters}, ${classes}] (filters x classes), got [${assignment.shape.join(', ')}]`);
  }
}

/** Per-class activation mass m_c(x) = sum_k G[k, c] a_k(x) / sum_k a_k(x) [N, C], with the logits; differentiable. */
function classMass(model: PixelModel, assignment: Tensor, x01: Tensor): { mass: Tensor; logits: Tensor } {
  return torch.tidy(() => {
    const { logits, gap } = model.forward(x01);
    checkAssignment(assignment, gap.shape[1]!, logits.shape[1]!, 'gateConsistency');
    const g = assignment.to({ dtype: gap.dtype, device: gap.device });
    return { mass: gap.matmul(g).div(gap.sum(1, true).clampMin(MIN_MASS)), logits };
  });
}

/** The gate-consistency score s(x) [N] as a differentiable tensor (for the adaptive attack); in [0, 1] for a G in [0, 1]. */
export function gateConsistency(model: PixelModel, assignment: Tensor /* [K, C] */, x01: Tensor): Tensor {
  return torch.tidy(() => {
    const { mass, logits } = classMass(model, assignment, x01);
    return mass.gather(1, logits.detach().argmax(1).unsqueeze(1)).squeeze(1);
  });
}

/** G of a CSG model, or the STD model's 0/1 assignment from its training set, as float32 [K, C] on the model's device. */
function resolveAssignment(ctx: DetectorContext, what: string): Tensor {
  const b = ctx.model.backbone;
  const device = b.fc.weight.device;
  if (ctx.gate) {
    checkAssignment(ctx.gate, b.numFilters, b.numClasses, what);
    return torch.keep(torch.tidy(() => ctx.gate!.to({ dtype: 'float32', device })));
  }
  const stats = new FilterClassStats(b.numFilters, b.numClasses);
  let seen = 0;
  for (const batch of ctx.trainBatches()) {
    torch.tidy(() => torch.noGrad(() => stats.update(b, ctx.model.normalize(batch.x01.to({ dtype: 'float32', device })), batch.labels)));
    seen += batch.labels.shape[0]!;
  }
  if (seen === 0) throw new Error(`${what}: the STD model's filter-to-class assignment needs training images, trainBatches gave none`);
  return torch.keep(torch.tidy(() => stats.assignmentGate().to({ device })));
}

abstract class AssignmentDetector extends Detector {
  private assign: Tensor | null = null;

  override prepare(ctx: DetectorContext): void {
    super.prepare(ctx);
    const a = resolveAssignment(ctx, this.name);
    this.assign?.dispose();
    this.assign = a;
  }

  /** G or the STD assignment [K, C]. */
  get assignment(): Tensor {
    if (!this.assign) throw new Error(`${this.name}: call prepare(ctx) before fit or score`);
    return this.assign;
  }

  override dispose(): void { this.assign?.dispose(); this.assign = null; }
}

/** Score 1 - s(x): no fitting. */
export class GateDetector extends AssignmentDetector {
  readonly name = 'gate' as const;

  score(x01: Tensor): Float64Array {
    const g = this.assignment;
    return this.scoreInBatches(x01, (x) => torch.noGrad(() => gateConsistency(this.model, g, x).to('float64').toFloat64Array().map((s) => 1 - s)));
  }
}

/**
 * Logistic regression (sklearn's LogisticRegression defaults: L2, C = 1) over the per-class activation mass
 * m_c(x): the features are [m_{y_hat}, then the other C - 1 masses in decreasing order] (independent of
 * which class is predicted), z-scored with the fit split's mean and standard deviation (the masses of
 * different ranks have very different scales, and the L2 penalty should treat them alike). Score: the
 * decision function w . z + b (the log-odds of "adversarial").
 */
export class CsgLrDetector extends AssignmentDetector {
  readonly name = 'csg-lr' as const;
  private readonly scaler = new Standardizer();
  private readonly lr: LogisticRegression;

  constructor(o: DetectorOptions & { C?: number } = {}) {
    super(o);
    this.lr = new LogisticRegression({ C: o.C ?? 1 });
  }

  /** The features [N * C] row-major (prediction's mass first, the rest sorted decreasing). */
  features(x01: Tensor): Float64Array {
    const g = this.assignment;
    const C = g.shape[1]!;
    const n = this.checkImages(x01);
    const out = new Float64Array(n * C);
    for (let s = 0; s < n; s += this.batchSize) {
      const m = Math.min(this.batchSize, n - s);
      const { mass, pred } = torch.tidy(() => torch.noGrad(() => {
        const r = classMass(this.model, g, x01.narrow(0, s, m).to({ dtype: 'float32', device: g.device }));
        return { mass: r.mass.to('float64').toFloat64Array(), pred: r.logits.argmax(1).to('float64').toFloat64Array() };
      }));
      for (let i = 0; i < m; i++) {
        const row = Array.from(mass.subarray(i * C, (i + 1) * C));
        const first = row.splice(pred[i]!, 1)[0]!;
        row.sort((a, b) => b - a);
        out.set([first, ...row], (s + i) * C);
      }
    }
    return out;
  }

  override fit(x01: Tensor, adversarial: Uint8Array): void {
    const f = this.features(x01);
    checkFlags(this.name, x01.shape[0]!, adversarial);
    const C = this.assignment.shape[1]!;
    this.scaler.fit(f, C);
    this.lr.fit(this.scaler.transform(f), adversarial, C);
  }

  /** The fitted weights (on z-scored features) and intercept. */
  get regression(): { coef: Float64Array; intercept: number } { return { coef: this.lr.coef, intercept: this.lr.intercept }; }

  score(x01: Tensor): Float64Array {
    void this.assignment;   // 'call prepare' comes first
    if (!this.lr.fitted) throw new Error(`${this.name}: call fit(x01, adversarial) on the detection split before score`);
    return this.lr.decisionFunction(this.scaler.transform(this.features(x01)));
  }
}
