// The shared base of the Captum-style input attributions (saliency, ig, smoothgrad, occlusion): they
// explain the full model (input -> logits) rather than the last feature map, so their maps are at the
// input's size without upsampling. Gradients go through torch.grad on the whole model; every pass is
// batched over images and over the method's own repetitions (IG steps, SmoothGrad samples, occlusion
// windows), cut into passes of at most `internalBatch` images (Captum's internal_batch_size) so that
// memory stays bounded; each pass frees its intermediates before the next one.
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import type { CsgBackbone } from '../models/types.js';
import { Explainer, type ExplainerOptions } from './base.js';
import { ATTRIBUTION_DEFAULTS } from './attribution_defaults.js';

export interface AttributionOptions extends ExplainerOptions {
  /** Images per forward/backward pass (default 512); the result does not depend on it beyond float rounding. */
  internalBatch?: number;
}

/** A positive integer option, or a clear error naming it. */
export function positiveInt(method: string, name: string, v: number): number {
  if (!(Number.isSafeInteger(v) && v > 0)) throw new Error(`${method}: ${name} must be a positive integer, got ${v}`);
  return v;
}

export abstract class InputAttribution extends Explainer {
  readonly internalBatch: number;
  constructor(model: CsgBackbone, o: AttributionOptions = {}) {
    super(model, o);
    this.internalBatch = positiveInt(this.constructor.name, 'internalBatch', o.internalBatch ?? ATTRIBUTION_DEFAULTS.internalBatch);
  }

  /** The settings that decide the maps, as localization.json records them. */
  settings(): Record<string, number | string> { return {}; }

  /** The target logit of each row: model(xs)[n, targets[n]] as [rows], inference only. */
  protected targetLogits(xs: Tensor, targets: Tensor): Tensor {
    return torch.noGrad(() => this.model.head(this.model.features(xs)).gather(1, targets.unsqueeze(1)).squeeze(1));
  }

  /**
   * d(sum_r logits[r, targets[r]]) / d row for `total` rows built `chunk` rows at a time (default
   * internalBatch): rows(start, count) gives inputs [count, C, H, W] from row `start`, targets [total]
   * are their classes, and reduce(grads,
   * start, count) turns each chunk's gradients into what is kept (no graph); returns those, in order. Images
   * do not interact in eval mode, so each row's gradient is its own.
   */
  protected gradientChunks(total: number, targets: Tensor, rows: (start: number, count: number) => Tensor,
    reduce: (grads: Tensor, start: number, count: number) => Tensor, chunk = this.internalBatch): Tensor[] {
    const out: Tensor[] = [];
    for (let start = 0; start < total; start += chunk) {
      const count = Math.min(chunk, total - start);
      out.push(torch.tidy(() => {
        const leaf = torch.noGrad(() => rows(start, count)).detach().requiresGrad_(true);
        const g = torch.enableGrad(() => {
          const score = this.model.head(this.model.features(leaf)).gather(1, targets.narrow(0, start, count).unsqueeze(1)).sum();
          return torch.grad(score, leaf)[0]!;
        });
        return torch.noGrad(() => reduce(g, start, count));
      }));
    }
    return out;
  }
}

/** [N, ...] repeated k times along a new leading axis and flattened: rows k * N (step-major, Captum's IG layout). */
export function tileRows(t: Tensor, k: number): Tensor {
  return t.unsqueeze(0).expand([k, ...t.shape]).reshape([k * t.shape[0]!, ...t.shape.slice(1)]);
}

/** Each row of [N, ...] repeated k times in place: rows N * k (image-major, torch.repeat_interleave). */
export function repeatRows(t: Tensor, k: number): Tensor {
  return t.unsqueeze(1).expand([t.shape[0]!, k, ...t.shape.slice(1)]).reshape([t.shape[0]! * k, ...t.shape.slice(1)]);
}
