// Deletion and insertion (Petsiuk et al. 2018, RISE): pixels are moved from a start image to a finish image
// in order of decreasing relevance, `step` pixels at a time, and the target class's probability is read
// before the first step and after each one; the score is the normalized area under that curve, as RISE's
// CausalMetric computes it: (sum - first / 2 - last / 2) / steps, a trapezoid over x in [0, 1].
//   deletion:  start = the image, finish = the baseline (low AUC = faithful)
//   insertion: start = the baseline, finish = the image (high AUC = faithful)
// Baselines: 'mean' is zero in the model's input space, i.e. the training data's mean colour for inputs
// normalized with its statistics (RISE's torch.zeros_like), 'blur' RISE's blur (an 11 x 11 kernel made by
// scipy's gaussian_filter of a dirac, sigma 5, zero padding). RISE's defaults: deletion 'mean', insertion 'blur'.
// Order: RISE's np.flip(np.argsort(map)), with a stable argsort: ties go to the higher pixel index first.
// Batched: one forward per step for the whole batch of images.
import * as torch from '../../torch/index.js';
import type { Tensor } from '../../torch/index.js';
import { checkInputs, targetProbs, type Classifier } from './common.js';

export type CausalBaseline = 'mean' | 'blur';
export const CAUSAL_BASELINES: readonly CausalBaseline[] = ['mean', 'blur'];

export interface CausalOptions {
  /** What replaces (deletion) or is replaced by (insertion) the image (default: deletion 'mean', insertion 'blur'). */
  baseline?: CausalBaseline;
  /** Number of steps; each moves ceil(H W / steps) pixels (default H: one image row per step, RISE's 224 at 224 px). */
  steps?: number;
}

export interface CausalResult {
  /** Per image: the normalized area under its curve. */
  auc: Float64Array;
  /** Per image, steps + 1 probabilities each (row-major [N, steps + 1]). */
  curves: Float64Array;
  steps: number;
  /** Pixels moved per step. */
  step: number;
}

/** 1-D scipy.ndimage.gaussian_filter1d of a length-n dirac at its centre, mode 'reflect' (truncate 4). */
function reflectedGaussian(n: number, sigma: number): Float64Array {
  const r = Math.floor(4 * sigma + 0.5);
  const w = new Float64Array(2 * r + 1);
  let s = 0;
  for (let t = -r; t <= r; t++) { w[t + r] = Math.exp(-0.5 / (sigma * sigma) * t * t); s += w[t + r]; }
  for (let t = 0; t < w.length; t++) w[t] /= s;
  const centre = Math.floor(n / 2), out = new Float64Array(n);
  // scipy's 'reflect' extends d c b a | a b c d | d c b a, with period 2n.
  const reflect = (j: number) => { const m = ((j % (2 * n)) + 2 * n) % (2 * n); return m < n ? m : 2 * n - 1 - m; };
  for (let i = 0; i < n; i++) for (let t = -r; t <= r; t++) if (reflect(i + t) === centre) out[i] += w[t + r];
  return out;
}

/** RISE's gkern(11, 5) as one [klen, klen] float32 kernel (the same on each channel). */
export function riseKernel(klen = 11, sigma = 5): Float32Array {
  const k = reflectedGaussian(klen, sigma), out = new Float32Array(klen * klen);
  for (let i = 0; i < klen; i++) for (let j = 0; j < klen; j++) out[i * klen + j] = k[i] * k[j];
  return out;
}

function baselineOf(x: Tensor, baseline: CausalBaseline): Tensor {
  if (baseline === 'mean') return torch.zerosLike(x);
  const c = x.shape[1]!, klen = 11;
  const k = torch.tensor(riseKernel(klen), { dtype: x.dtype, device: x.device }).reshape(1, 1, klen, klen).repeat(c, 1, 1, 1);
  return torch.F.conv2d(x, k, null, { padding: klen >> 1, groups: c });
}

/** Each pixel's position [N, 1, H, W] (int64) in its map's order of decreasing relevance. */
export function relevanceRanks(maps: Tensor): Tensor {
  const [n, h, w] = maps.shape as [number, number, number], hw = h * w;
  const v = maps.contiguous().toFloat64Array(), ranks = new BigInt64Array(n * hw);
  const order = new Int32Array(hw);
  for (let i = 0; i < n; i++) {
    const o = i * hw;
    for (let p = 0; p < hw; p++) order[p] = p;
    order.sort((a, b) => v[o + b]! - v[o + a]! || b - a);
    for (let r = 0; r < hw; r++) ranks[o + order[r]!] = BigInt(r);
  }
  return torch.fromTypedArray(ranks, [n, 1, h, w]).to(maps.device);
}

/** Deletion ('deletion') or insertion ('insertion') curves and AUCs for a batch; targets int64 [N]. */
export function causalMetric(mode: 'deletion' | 'insertion', model: Classifier, x: Tensor, maps: Tensor, targets: Tensor,
  o: CausalOptions = {}): CausalResult {
  checkInputs(mode, x, maps, targets);
  const baseline = o.baseline ?? (mode === 'deletion' ? 'mean' : 'blur');
  if (!CAUSAL_BASELINES.includes(baseline)) throw new Error(`${mode}: baseline must be one of ${CAUSAL_BASELINES.join(', ')}, got '${String(baseline)}'`);
  const [n, , h, w] = x.shape as [number, number, number, number], hw = h * w;
  const asked = o.steps ?? h;
  if (!(Number.isInteger(asked) && asked >= 1 && asked <= hw)) throw new Error(`${mode}: steps must be an integer in [1, ${hw}] (pixels per image), got ${asked}`);
  const step = Math.ceil(hw / asked), steps = Math.ceil(hw / step);
  const curves = new Float64Array(n * (steps + 1));
  torch.tidy(() => torch.noGrad(() => {
    const ranks = relevanceRanks(maps);
    const sub = baselineOf(x, baseline);
    const [start, finish] = mode === 'deletion' ? [x, sub] : [sub, x];
    for (let i = 0; i <= steps; i++) {
      const p = torch.tidy(() => targetProbs(model, finish.where(ranks.lt(step * i), start), targets)).toFloat64Array();
      for (let k = 0; k < n; k++) curves[k * (steps + 1) + i] = p[k]!;
    }
  }));
  const auc = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const c = curves.subarray(k * (steps + 1), (k + 1) * (steps + 1));
    let s = 0;
    for (const v of c) s += v;
    auc[k] = (s - c[0]! / 2 - c[steps]! / 2) / steps;
  }
  return { auc, curves, steps, step };
}

export const deletion = (model: Classifier, x: Tensor, maps: Tensor, targets: Tensor, o?: CausalOptions) => causalMetric('deletion', model, x, maps, targets, o);
export const insertion = (model: Classifier, x: Tensor, maps: Tensor, targets: Tensor, o?: CausalOptions) => causalMetric('insertion', model, x, maps, targets, o);
