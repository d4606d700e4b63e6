// The common shape of adversarial-sample detectors (method.md section 6): statistics from the model's
// training set (prepare), an optional fit on the detection split, and one score per image with
// HIGHER = MORE LIKELY ADVERSARIAL for every detector, so that the metrics (metrics/detection) treat
// them alike. Images are in pixel space [0, 1]; the model is a PixelModel in eval mode.
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import type { PixelModel } from '../attack/pixel_model.js';

export { DETECTOR_NAMES, type DetectorName } from './names.js';
import type { DetectorName } from './names.js';

export interface DetectorContext {
  model: PixelModel;
  /** G [K, C] in [0, 1] of a CSG model, or null (STD) */
  gate: Tensor | null;
  /**
   * The model's training images, x01 float32 [B, C, H, W] and labels int64 [B], batch by batch (called once
   * per prepare). The detector only reads them: the iterable owns and disposes its tensors.
   */
  trainBatches: () => Iterable<{ x01: Tensor; labels: Tensor }>;
  /** Notes for the caller (e.g. kdbu on a model without dropout); default: none shown. */
  log?: (line: string) => void;
}

/** Clean, noisy and adversarial copies of the same images, row-aligned (the detection protocol's samples). */
export interface Copies { clean: Tensor; noisy: Tensor; adv: Tensor }

/**
 * A detector whose features of an image depend on the clean copies beside it (LID: Ma et al. estimate
 * every copy's LID among the clean images of its minibatch): the adversarial app fits and scores it on
 * the aligned copies instead of through fit/score.
 */
export interface CopiesDetector {
  /** Fits on the copies (clean and noisy negative, adversarial positive). */
  fitCopies(c: Copies): void;
  scoreCopies(c: Copies): { clean: Float64Array; noisy: Float64Array; adv: Float64Array };
}

export function scoresCopies(d: Detector): d is Detector & CopiesDetector {
  return typeof (d as Partial<CopiesDetector>).scoreCopies === 'function' && typeof (d as Partial<CopiesDetector>).fitCopies === 'function';
}

export interface DetectorOptions {
  /** images per forward pass when scoring (default 256) */
  batchSize?: number;
}

export abstract class Detector {
  abstract readonly name: DetectorName;
  protected readonly batchSize: number;
  private ctx: DetectorContext | null = null;

  constructor(o: DetectorOptions = {}) {
    this.batchSize = o.batchSize ?? 256;
    if (!(Number.isInteger(this.batchSize) && this.batchSize > 0)) throw new Error(`detector: batchSize must be a positive integer, got ${o.batchSize}`);
  }

  /** Training-set statistics (Mahalanobis Gaussians; the STD filter->class assignment); the base keeps the context. */
  prepare(ctx: DetectorContext): void {
    if (ctx.model.backbone.training) throw new Error(`${this.name}: the model is in training mode; call model.backbone.eval() first`);
    this.ctx = ctx;
  }

  /** Fit on the detection split (x01 and 0/1 adversarial flags); default none. */
  fit(x01: Tensor, adversarial: Uint8Array): void { void x01; void adversarial; }

  /** One score per image, higher = more adversarial. */
  abstract score(x01: Tensor): Float64Array;

  /** Frees the detector's own tensors (not the context's). */
  dispose(): void { /* default: nothing held */ }

  protected get model(): PixelModel {
    if (!this.ctx) throw new Error(`${this.name}: call prepare(ctx) before fit or score`);
    return this.ctx.model;
  }

  protected get context(): DetectorContext {
    if (!this.ctx) throw new Error(`${this.name}: call prepare(ctx) before fit or score`);
    return this.ctx;
  }

  /** Checks x01 [N, C, H, W] against the model's channels. */
  protected checkImages(x01: Tensor): number {
    const c = this.model.channels;
    if (x01.ndim !== 4 || x01.shape[1] !== c) throw new Error(`${this.name}: images must be [N, ${c}, H, W], got [${x01.shape.join(', ')}]`);
    if (!x01.isFloatingPoint()) throw new Error(`${this.name}: images must be floating point in [0, 1], got ${x01.dtype}`);
    return x01.shape[0]!;
  }

  /** Runs perBatch on slices of at most batchSize images (on the model's device) and concatenates the scores. */
  protected scoreInBatches(x01: Tensor, perBatch: (x: Tensor) => Float64Array): Float64Array {
    const n = this.checkImages(x01);
    const out = new Float64Array(n);
    const device = this.model.backbone.fc.weight.device;
    for (let s = 0; s < n; s += this.batchSize) {
      const m = Math.min(this.batchSize, n - s);
      const part = torch.tidy(() => perBatch(x01.narrow(0, s, m).to({ dtype: 'float32', device })));
      if (part.length !== m) throw new Error(`${this.name}: internal: ${part.length} scores for ${m} images`);
      out.set(part, s);
    }
    return out;
  }
}

/** Checks fit's arguments: one 0/1 flag per image, both kinds present. */
export function checkFlags(name: string, n: number, adversarial: Uint8Array): void {
  if (adversarial.length !== n) throw new Error(`${name}: ${n} images but ${adversarial.length} adversarial flags`);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    if (adversarial[i] !== 0 && adversarial[i] !== 1) throw new Error(`${name}: adversarial flags must be 0 or 1, flag ${i} is ${adversarial[i]}`);
    pos += adversarial[i]!;
  }
  if (pos === 0 || pos === n) throw new Error(`${name}: fit needs both clean and adversarial images, got ${pos} adversarial of ${n}`);
}
