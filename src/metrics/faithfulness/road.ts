// ROAD (Rong et al. 2022, "A Consistent and Efficient Evaluation Strategy for Attribution Methods") as
// pytorch-grad-cam's metrics/road.py computes it: for each percentile p, pixels are removed and filled by
// noisy linear imputation (every removed pixel the weighted mean of its 8 neighbours: 1/6 edge, 1/12
// corner, removed neighbours solved for jointly, plus noise * N(0, 1)), and the target class's probability
// after imputation minus before is averaged over the percentiles:
//   MoRF (most relevant first): keep the pixels whose map value is < the p-th percentile of the map;
//   LeRF (least relevant first): keep those whose 1 - value is < the p-th percentile of 1 - map;
//   combined = (LeRF - MoRF) / 2 (ROADCombined; higher = more faithful).
// Percentiles: numpy's linear method, compared in float32 as torch compares a float32 map with a numpy
// float64 threshold. The reference solves each image's sparse system with scipy's spsolve; here the same
// symmetric positive definite system (S v - W_uu v = W_uk x) is solved batched over images and channels by
// Jacobi-preconditioned conjugate gradients in float64 on the 8-neighbour stencil, to a relative
// residual of 1e-12 (the imputed image is then float32, as the reference's).
import * as torch from '../../torch/index.js';
import type { Tensor } from '../../torch/index.js';
import { checkInputs, targetProbs, type Classifier } from './common.js';
import { numpyPercentile } from './percentile.js';

/** pytorch-grad-cam's ROAD percentiles (ROADMostRelevantFirstAverage and friends). */
export const ROAD_PERCENTILES: readonly number[] = [10, 20, 30, 40, 50, 60, 70, 80, 90];

export interface RoadOptions {
  percentiles?: readonly number[];
  /** Standard deviation of the noise added to imputed values (pytorch-grad-cam: 0.01); from torch's global generator. */
  noise?: number;
  /** Conjugate-gradient stop: relative residual (default 1e-12) and iteration cap (default 4 H W). */
  tolerance?: number;
  maxIterations?: number;
}

export interface RoadResult {
  /** Per image, each averaged over the percentiles: probability after imputation minus before. */
  morf: Float64Array;
  lerf: Float64Array;
  /** (lerf - morf) / 2 per image. */
  combined: Float64Array;
}

/** The imputer's neighbour weights: corners 1/12, edges 1/6. */
const STENCIL = [1 / 12, 1 / 6] as const;

/**
 * Noisy linear imputation of x [N, C, H, W] where keep [N, 1, H, W] (bool) is false: float32 images with
 * the removed pixels replaced by the solution of the neighbour-mean system (plus noise * randn).
 */
export function noisyLinearImpute(x: Tensor, keep: Tensor, o: { noise?: number; tolerance?: number; maxIterations?: number } = {}): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const noise = o.noise ?? 0.01, tol = o.tolerance ?? 1e-12, cap = o.maxIterations ?? 4 * h * w;
  return torch.tidy(() => torch.noGrad(() => {
    const f64 = { dtype: 'float64' as const, device: x.device };
    // The stencil as shifted slices of a zero-padded copy: a float64 3 x 3 convolution takes libtorch's slow
    // unvectorized path on the CPU (about 5000 times slower here at 16 x 16).
    const conv = (t: Tensor) => torch.tidy(() => {
      const padded = torch.F.pad(t, [1, 1, 1, 1]);
      const at = (dy: number, dx: number) => padded.narrow(2, 1 + dy, h).narrow(3, 1 + dx, w);
      const edges = at(-1, 0).add(at(1, 0)).add(at(0, -1)).add(at(0, 1)).mul(STENCIL[1]!);
      return edges.add(at(-1, -1).add(at(-1, 1)).add(at(1, -1)).add(at(1, 1)).mul(STENCIL[0]!));
    });
    // One system per image and channel: [N C, 1, H, W].
    const u = keep.logicalNot().to('float64').repeat(1, c, 1, 1).reshape(n * c, 1, h, w);
    const xs = x.to('float64').reshape(n * c, 1, h, w);
    const s = conv(torch.ones([1, 1, h, w], f64)).clampMin(1e-300);   // in-image neighbours' weight sum
    const apply = (v: Tensor) => u.mul(s.mul(v).sub(conv(v)));
    const dot = (a: Tensor, b: Tensor) => a.mul(b).sum([1, 2, 3], true);
    const rhs = u.mul(conv(xs.mul(u.neg().add(1))));
    let v = torch.zerosLike(rhs), r = rhs.clone(), z = r.div(s), p = z.clone(), rz = dot(r, z);
    const norm0 = dot(rhs, rhs).sqrt().clampMin(1e-300);
    for (let it = 0; it < cap; it++) {
      if (it % 8 === 0 && torch.tidy(() => dot(r, r).sqrt().div(norm0).max().item()) <= tol) break;
      const next = torch.tidy(() => {
        const ap = apply(p), pap = dot(p, ap);
        const alpha = rz.div(pap).where(pap.gt(0), torch.zerosLike(pap));
        const v2 = v.add(p.mul(alpha)), r2 = r.sub(ap.mul(alpha)), z2 = r2.div(s), rz2 = dot(r2, z2);
        const beta = rz2.div(rz).where(rz.gt(0), torch.zerosLike(rz));
        return [v2, r2, z2, z2.add(p.mul(beta)), rz2];
      });
      for (const t of [v, r, z, p, rz]) t.dispose();   // the loop's old state: freed now, not at the scope's end
      [v, r, z, p, rz] = next as [Tensor, Tensor, Tensor, Tensor, Tensor];
    }
    let filled = v.float().reshape(n, c, h, w);
    if (noise) filled = filled.add(torch.randnLike(filled).mul(noise));
    return filled.where(keep.logicalNot().expand(n, c, h, w), x);
  }));
}

/** keep masks [N, 1, H, W] (uint8) for percentile p: MoRF keeps map < t, LeRF keeps 1 - map < t. */
function keepMask(values: Float32Array[], p: number, hw: number): Uint8Array {
  const out = new Uint8Array(values.length * hw);
  values.forEach((vals, i) => {
    const t = Math.fround(numpyPercentile(Float32Array.from(vals).sort(), p));
    for (let q = 0; q < hw; q++) out[i * hw + q] = vals[q]! < t ? 1 : 0;
  });
  return out;
}

/** Values per system solved at once (about 128 MiB per float64 vector): percentiles are batched up to it. */
const SYSTEM_VALUES = 1 << 24;

/** ROAD MoRF, LeRF and combined for a batch (maps [N, H, W], targets int64 [N]). */
export function road(model: Classifier, x: Tensor, maps: Tensor, targets: Tensor, o: RoadOptions = {}): RoadResult {
  checkInputs('road', x, maps, targets);
  const percentiles = o.percentiles ?? ROAD_PERCENTILES;
  if (!percentiles.length || percentiles.some((p) => !(p >= 0 && p <= 100))) throw new Error(`road: percentiles must be in [0, 100], got [${percentiles.join(', ')}]`);
  if (o.noise !== undefined && !(o.noise >= 0)) throw new Error(`road: noise must be >= 0, got ${o.noise}`);
  const [n, h, w] = maps.shape as [number, number, number], hw = h * w;
  const flat = torch.tidy(() => maps.to('float32').contiguous().toFloat64Array());
  const morfValues = Array.from({ length: n }, (_, i) => Float32Array.from(flat.subarray(i * hw, (i + 1) * hw)));
  const lerfValues = morfValues.map((m) => m.map((v) => Math.fround(1 - v)));
  // Every (order, percentile) perturbation, solved and scored together as far as memory allows.
  const jobs = [...percentiles.map((p) => ({ lerf: false, p })), ...percentiles.map((p) => ({ lerf: true, p }))];
  const per = Math.max(1, Math.floor(SYSTEM_VALUES / x.numel));
  const morf = new Float64Array(n), lerf = new Float64Array(n);
  torch.tidy(() => {
    const before = targetProbs(model, x, targets);
    for (let j = 0; j < jobs.length; j += per) {
      const chunk = jobs.slice(j, j + per), k = chunk.length;
      const diff = torch.tidy(() => {
        const masks = new Uint8Array(k * n * hw);
        chunk.forEach((c, i) => masks.set(keepMask(c.lerf ? lerfValues : morfValues, c.p, hw), i * n * hw));
        const keep = torch.fromTypedArray(masks, [k * n, 1, h, w], { dtype: 'bool' }).to(x.device);
        const imputed = noisyLinearImpute(x.repeat(k, 1, 1, 1), keep, o);
        return targetProbs(model, imputed, targets.repeat(k)).sub(before.repeat(k)).toFloat64Array();
      });
      chunk.forEach((c, i) => { for (let q = 0; q < n; q++) (c.lerf ? lerf : morf)[q] += diff[i * n + q]!; });
    }
  });
  const m = percentiles.length;
  for (let q = 0; q < n; q++) { morf[q] /= m; lerf[q] /= m; }
  return { morf, lerf, combined: lerf.map((l, i) => (l - morf[i]!) / 2) };
}
