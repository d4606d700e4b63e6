// SmoothGrad (Smilkov et al. 2017) as Captum's NoiseTunnel(Saliency).attribute(nt_type='smoothgrad'):
// each image repeated `samples` times (repeat_interleave), plus Gaussian noise of standard deviation
// `noise` (in the model's input units, i.e. after normalization; Captum's stdevs, default 1.0), drawn as
// torch.normal(0, stdev) does: one standard normal draw of shape [N * samples, C, H, W] from torch's
// generator, times stdev. The mean over the samples of |gradient| (Saliency, abs=True) is reduced to one
// map per image by the maximum over channels, as Saliency.
//
// The noise comes from torch's global generator seeded with `seed` when the explainer is first used and
// then continued call after call (so a run's batches get different noise and a seeded run repeats); the
// caller's generator state is restored after every draw. Noise is drawn on the CPU and moved to the
// input's device, so the maps are the same on any device and equal Captum's after torch.manual_seed(seed).
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import type { CsgBackbone } from '../models/types.js';
import type { Explanation } from './base.js';
import { ATTRIBUTION_DEFAULTS as D } from './attribution_defaults.js';
import { InputAttribution, positiveInt, repeatRows, type AttributionOptions } from './attribution.js';

export interface SmoothGradOptions extends AttributionOptions {
  /** Noisy copies per image (default 5, Captum's nt_samples). */
  samples?: number;
  /** The noise's standard deviation in input units (default 1.0, Captum's stdevs). */
  noise?: number;
  /** Seeds torch's generator for the first draw (default 0). */
  seed?: number;
}

export class SmoothGrad extends InputAttribution {
  readonly name = 'smoothgrad';
  readonly samples: number;
  readonly noise: number;
  readonly seed: number;
  /** The generator state after this explainer's last draw (null before the first). */
  private rngState: Tensor | null = null;
  constructor(model: CsgBackbone, o: SmoothGradOptions = {}) {
    super(model, o);
    this.samples = positiveInt('smoothgrad', 'samples', o.samples ?? D.smoothgradSamples);
    this.noise = o.noise ?? D.smoothgradNoise;
    if (!(Number.isFinite(this.noise) && this.noise >= 0)) throw new Error(`smoothgrad: noise must be a non-negative number, got ${o.noise}`);
    this.seed = o.seed ?? D.smoothgradSeed;
    if (!Number.isSafeInteger(this.seed) || this.seed < 0) throw new Error(`smoothgrad: seed must be a non-negative integer, got ${o.seed}`);
  }
  override settings(): Record<string, number | string> { return { samples: this.samples, noise: this.noise, seed: this.seed }; }
  /** Standard normal noise of `shape` from this explainer's stream, leaving the caller's generator as it was. */
  private draw(shape: number[]): Tensor {
    const saved = torch.getRngState();
    try {
      if (this.rngState) torch.setRngState(this.rngState); else torch.manualSeed(this.seed);
      const z = torch.randn(shape); // host: the CPU generator's stream (Captum's draws), moved to x's device by the caller
      this.rngState?.dispose();
      this.rngState = torch.keep(torch.getRngState());
      return z;
    } finally {
      torch.setRngState(saved);
      saved.dispose();
    }
  }
  protected compute(x: Tensor, labels: Tensor | undefined): Explanation {
    const targets = this.targetsFor(x, labels);
    const [N, ...rest] = x.shape as [number, ...number[]];
    const S = this.samples;
    const noise = this.draw([N * S, ...rest]).to({ device: x.device, dtype: x.dtype }).mul(this.noise);
    const noisy = torch.noGrad(() => repeatRows(x, S).add(noise));
    // whole images per pass: m images with all their samples
    const m = Math.max(1, Math.floor(this.internalBatch / S));
    const parts = this.gradientChunks(N * S, repeatRows(targets, S), (s, n) => noisy.narrow(0, s, n),
      (g, _s, n) => g.abs().reshape([n / S, S, ...rest]).sum(1).div(S).amax(1), m * S);
    return { maps: parts.length === 1 ? parts[0]! : torch.cat(parts, 0), targets };
  }
  dispose(): void { this.rngState?.dispose(); this.rngState = null; }
}
