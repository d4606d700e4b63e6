// Occlusion (Zeiler & Fergus 2014) as Captum's Occlusion with a window over all channels
// (sliding_window_shapes (C, w, w), strides (C, s, s)) and baseline 0: the window is slid from the
// top-left corner in steps of s, ceil((side - w) / s) + 1 positions per side (the last one cut at the
// border, as Captum's); each position's attribution is logit_t(x) - logit_t(x with the window zeroed),
// spread over the window's pixels, and every pixel's sum is divided by the number of windows covering
// it. The attribution is the same in every channel, so the map is that value per pixel.
//
// Batched over window positions: one forward of k positions x N images per pass (Captum's
// perturbations_per_eval), no forward per position of one image.
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import type { CsgBackbone } from '../models/types.js';
import type { Explanation } from './base.js';
import { ATTRIBUTION_DEFAULTS as D } from './attribution_defaults.js';
import { InputAttribution, positiveInt, tileRows, type AttributionOptions } from './attribution.js';

export interface OcclusionOptions extends AttributionOptions {
  /** The window's side in pixels (default 8). */
  window?: number;
  /** The step between windows in pixels (default 4; at most the window, as Captum requires). */
  stride?: number;
}

/** Captum's window offsets along a side of `size`: 0, s, 2s, ... for ceil((size - w) / s) + 1 positions. */
export function windowOffsets(size: number, window: number, stride: number): number[] {
  return Array.from({ length: Math.ceil((size - window) / stride) + 1 }, (_, i) => i * stride);
}

export class Occlusion extends InputAttribution {
  readonly name = 'occlusion';
  readonly window: number;
  readonly stride: number;
  constructor(model: CsgBackbone, o: OcclusionOptions = {}) {
    super(model, o);
    this.window = positiveInt('occlusion', 'window', o.window ?? D.occlusionWindow);
    this.stride = positiveInt('occlusion', 'stride', o.stride ?? D.occlusionStride);
    if (this.stride > this.window) throw new Error(`occlusion: stride (${this.stride}) must not exceed the window (${this.window}), as Captum requires`);
  }
  override settings(): Record<string, number | string> { return { window: this.window, stride: this.stride, baseline: 0 }; }
  /** The window masks [P, H, W] (1 inside) on the host, position-major (rows, then columns). */
  private masks(H: number, W: number): { masks: Float32Array; P: number } {
    const w = this.window;
    if (w > H || w > W) throw new Error(`occlusion: the window (${w}) is larger than the ${W}x${H} images`);
    const ys = windowOffsets(H, w, this.stride), xs = windowOffsets(W, w, this.stride);
    const P = ys.length * xs.length, masks = new Float32Array(P * H * W);
    let p = 0;
    for (const y0 of ys) for (const x0 of xs) {
      for (let y = y0; y < Math.min(y0 + w, H); y++) masks.fill(1, (p * H + y) * W + x0, (p * H + y) * W + Math.min(x0 + w, W));
      p++;
    }
    return { masks, P };
  }
  protected compute(x: Tensor, labels: Tensor | undefined): Explanation {
    const targets = this.targetsFor(x, labels);
    const [N, C, H, W] = x.shape as [number, number, number, number];
    const host = this.masks(H, W);
    const P = host.P;
    const masks = torch.fromTypedArray(host.masks, [P, H, W]).to({ device: x.device, dtype: x.dtype });
    const keep = torch.noGrad(() => masks.neg().add(1).unsqueeze(1).unsqueeze(1));   // [P, 1, 1, H, W]
    const t = tileRows(targets, P);
    const base = this.targetLogits(x, targets);                                       // [N]
    const k = Math.max(1, Math.floor(this.internalBatch / N));                         // positions per pass
    const drops: Tensor[] = [];
    for (let p = 0; p < P; p += k) {
      const n = Math.min(k, P - p);
      drops.push(torch.tidy(() => {
        const xs = x.unsqueeze(0).mul(keep.narrow(0, p, n)).reshape([n * N, C, H, W]);
        return torch.noGrad(() => base.unsqueeze(0).sub(this.targetLogits(xs, t.narrow(0, p * N, n * N)).reshape(n, N)));
      }));
    }
    const maps = torch.noGrad(() => {
      const flat = masks.reshape(P, H * W);
      const sum = torch.cat(drops, 0).t().mm(flat);                                   // [N, H * W]
      return sum.div(flat.sum(0).unsqueeze(0)).reshape(N, H, W);
    });
    return { maps, targets };
  }
}
