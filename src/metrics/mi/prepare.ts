// Steps 1 and 2 of the MI estimator (see ../mutual_info.ts): sklearn's scaling of each feature and the
// 1e-10 noise drawn from NumPy's legacy RandomState, column-major for the kNN search.
import { RandomState, glibcLog } from '../numpy_random.js';
import { numpySum, numpySumF32 } from './numerics.js';

export type FeatureArray = Float32Array | Float64Array;

const fr = Math.fround;

export function checkShape(features: FeatureArray, n: number, k: number): void {
  if (!(features instanceof Float32Array || features instanceof Float64Array)) {
    throw new TypeError('mutual information: features must be a Float32Array or Float64Array');
  }
  if (!Number.isInteger(n) || !Number.isInteger(k) || n < 1 || k < 1 || features.length !== n * k) {
    throw new RangeError(`mutual information: features has ${features.length} values, expected n*k = ${n}*${k}`);
  }
}

/**
 * Scaled and noised features exactly as `_estimate_mi` leaves them, returned column-major
 * (`out[(j - j0) * n + i]` = sample i, feature j) for the features j0 <= j < j1 (default all). The noise
 * stream is replayed in full, but logarithms are only evaluated for the values of the requested features.
 */
export function prepareFeatures(features: FeatureArray, n: number, k: number, randomState: number | null = 0, j0 = 0, j1 = k): Float64Array {
  checkShape(features, n, k);
  if (!(Number.isInteger(j0) && Number.isInteger(j1) && 0 <= j0 && j0 <= j1 && j1 <= k)) throw new RangeError(`prepareFeatures: bad feature range [${j0}, ${j1})`);
  const w = j1 - j0;
  const out = new Float64Array(n * w);
  // transpose the requested columns (blocks of 16 columns x 256 rows, to stay in cache)
  for (let jb = j0; jb < j1; jb += 16) {
    const je = Math.min(j1, jb + 16);
    for (let ib = 0; ib < n; ib += 256) {
      const ie = Math.min(n, ib + 256);
      for (let j = jb; j < je; j++) {
        const o = (j - j0) * n;
        for (let i = ib; i < ie; i++) out[o + i] = features[i * k + j];
      }
    }
  }
  for (let q = 0; q < out.length; q++) {
    if (!Number.isFinite(out[q])) {
      const j = j0 + Math.floor(q / n), i = q % n;
      throw new RangeError(`mutual information: feature ${j} of sample ${i} is ${out[q]}`);
    }
  }
  const means = new Float64Array(w);
  const absCol = new Float64Array(n);
  if (features instanceof Float64Array) {
    const sq = new Float64Array(n);
    for (let jj = 0; jj < w; jj++) {
      const o = jj * n;
      const avg = numpySum(out, o, n) / n;
      for (let i = 0; i < n; i++) {
        const d = out[o + i] - avg;
        sq[i] = d * d;
      }
      let sd = Math.sqrt(numpySum(sq, 0, n) / n);
      if (sd < 10 * 2.220446049250313e-16) sd = 1;
      for (let i = 0; i < n; i++) {
        const v = out[o + i] / sd;
        out[o + i] = v;
        absCol[i] = Math.abs(v);
      }
      means[jj] = numpySum(absCol, 0, n) / n;
    }
  } else {
    // float32 arithmetic throughout, as NumPy does on a float32 array
    const col = new Float32Array(n);
    const sq = new Float32Array(n);
    const tiny = fr(10 * 1.1920928955078125e-7);
    for (let jj = 0; jj < w; jj++) {
      const o = jj * n;
      for (let i = 0; i < n; i++) col[i] = out[o + i];
      const avg = fr(numpySumF32(col, n) / n);
      for (let i = 0; i < n; i++) {
        const d = fr(col[i] - avg);
        sq[i] = fr(d * d);
      }
      let sd = fr(Math.sqrt(fr(numpySumF32(sq, n) / n)));
      if (sd < tiny) sd = 1;
      for (let i = 0; i < n; i++) {
        const v = fr(col[i] / sd);
        out[o + i] = v;
        absCol[i] = Math.abs(v);
      }
      means[jj] = numpySum(absCol, 0, n) / n;
    }
  }
  const seed = randomState ?? Math.floor(Math.random() * 0x100000000);
  const scale = new Float64Array(w);
  for (let j = 0; j < w; j++) scale[j] = 1e-10 * Math.max(1, means[j]);
  // rng.standard_normal(size=(n, k)) in row-major order, consumed in pairs: flat entry e gets f * x2,
  // entry e + 1 gets f * x1. The requested values of a block of rows are collected row-major in `zb`,
  // then added column by column.
  const rs = new RandomState(seed);
  const pt = new Float64Array(3);
  const total = n * k;
  const B = 32;
  const zb = new Float64Array(B * w);
  let i = 0, j = 0; // row and column of flat entry e
  let blockStart = 0;
  const flush = (rowEnd: number) => {
    for (let jj = 0; jj < w; jj++) {
      const o = jj * n, sc = scale[jj];
      for (let r = blockStart; r < rowEnd; r++) out[o + r] += sc * zb[(r - blockStart) * w + jj];
    }
    blockStart = rowEnd;
  };
  for (let e = 0; e < total; e += 2) {
    rs.polarPair(pt);
    let i2 = i, j2 = j + 1;
    if (j2 === k) { j2 = 0; i2++; }
    const need1 = j >= j0 && j < j1;
    const need2 = e + 1 < total && j2 >= j0 && j2 < j1;
    if (need1 || need2) {
      const r2 = pt[2];
      const f = Math.sqrt((-2.0 * glibcLog(r2)) / r2);
      if (need1) zb[(i - blockStart) * w + (j - j0)] = f * pt[1];
      if (need2) {
        if (i2 - blockStart >= B) flush(i2);
        zb[(i2 - blockStart) * w + (j2 - j0)] = f * pt[0];
      }
    }
    // advance two entries
    i = i2;
    j = j2 + 1;
    if (j === k) { j = 0; i++; }
    if (i - blockStart >= B) flush(i);
  }
  flush(n);
  return out;
}
