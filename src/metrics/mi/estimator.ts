// sklearn's `mutual_info_classif` for continuous features (see ../mutual_info.ts for what is reproduced):
// targets, `_compute_mi_cd` on one sorted column, and the per-feature loop.
import { checkShape, prepareFeatures, type FeatureArray } from './prepare.js';
import { digamma, numpySum, psiInts } from './numerics.js';
import { Workspace, bruteRadii, countWithin, strictBound, windowRadii } from './knn.js';

export interface MutualInfoOptions {
  /** Neighbours of the kNN estimator (sklearn's `n_neighbors`), default 3. */
  nNeighbors?: number;
  /** Seed of NumPy's legacy RandomState for the noise (sklearn's `random_state`), default 0; null = random. */
  randomState?: number | null;
  /** Accepted for parity with sklearn; the input is never modified either way. */
  copy?: boolean;
}

// ------------------------------------------------------------------------------------------------------
// Targets

export interface Target {
  n: number;
  codes: Int32Array; // per sample, 0..L-1 (labels in ascending order, as np.unique)
  numCodes: number;
  counts: Int32Array;
  kk: Int32Array; // k per code
  brute: Uint8Array; // sklearn's NearestNeighbors would run brute force for this code
  allMasked: boolean;
  nMasked: number;
  psiN: number;
  meanPsiK: number;
  meanPsiL: number;
  /** One-vs-rest target built from `labels`: label == ovrClass has the last code; -1 otherwise. */
  ovrClass: number;
  labels: Int32Array | null;
}

export function makeTarget(codes: Int32Array, numCodes: number, nNeighbors: number): Target {
  const n = codes.length;
  const counts = new Int32Array(numCodes);
  for (let i = 0; i < n; i++) counts[codes[i]]++;
  const kk = new Int32Array(numCodes);
  const brute = new Uint8Array(numCodes);
  for (let c = 0; c < numCodes; c++) {
    if (counts[c] > 1) {
      kk[c] = Math.min(nNeighbors, counts[c] - 1);
      brute[c] = kk[c] >= Math.floor(counts[c] / 2) ? 1 : 0;
    }
  }
  let nMasked = 0;
  for (let i = 0; i < n; i++) if (counts[codes[i]] > 1) nMasked++;
  const psi = psiInts(n);
  const tk = new Float64Array(nMasked);
  const tl = new Float64Array(nMasked);
  for (let i = 0, t = 0; i < n; i++) {
    const c = codes[i];
    if (counts[c] > 1) {
      tk[t] = psi[kk[c]];
      tl[t] = psi[counts[c]];
      t++;
    }
  }
  return {
    n, codes, numCodes, counts, kk, brute,
    allMasked: nMasked === n,
    nMasked,
    psiN: nMasked > 0 ? digamma(nMasked) : -Infinity,
    meanPsiK: numpySum(tk) / nMasked,
    meanPsiL: numpySum(tl) / nMasked,
    ovrClass: -1,
    labels: null,
  };
}

/** Maps arbitrary label values to codes in ascending order of value (np.unique). */
function encodeLabels(target: ArrayLike<number | boolean>, n: number): { codes: Int32Array; numCodes: number } {
  if (target.length !== n) throw new RangeError(`mutual information: target has ${target.length} entries, expected ${n}`);
  const vals = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = Number(target[i]);
    if (!Number.isFinite(v)) throw new RangeError(`mutual information: target ${i} is ${target[i]}`);
    vals[i] = v;
  }
  const uniq = Array.from(new Set(vals)).sort((a, b) => a - b);
  const map = new Map<number, number>();
  uniq.forEach((v, i) => map.set(v, i));
  const codes = new Int32Array(n);
  for (let i = 0; i < n; i++) codes[i] = map.get(vals[i])!;
  return { codes, numCodes: uniq.length };
}

// ------------------------------------------------------------------------------------------------------
// Step 3: one feature against one target

/**
 * MI of the column last sorted into `ws` against target `t` (sklearn's `_compute_mi_cd`).
 *
 * Radii: sklearn's r_i = nextafter(R_i, 0), R_i the k-th neighbour distance, and the KD-tree radius count
 * keeps j when fl((x_i - x_j)^2) <= fl(r_i^2). For doubles d >= 0 and R > 0, squaring is strictly monotone
 * after rounding (consecutive doubles have squares more than one ulp apart), so that test is exactly
 * d <= nextafter(R, 0), i.e. d < R; for R = 0 it is d == 0. The node-level shortcuts of sklearn's tree use
 * the exact node bounds (1-D), so they agree with the per-point test.
 */
export function miSortedColumn(ws: Workspace, t: Target): number {
  const n = t.n;
  const M = t.nMasked;
  if (M === 0) return 0; // sklearn: digamma(0) + mean([]) = nan, max(0, nan) = 0
  const codes = t.codes, counts = t.counts;
  ws.ensureCodes(t.numCodes);
  const { order, sorted, radius, classVals, classPos, mCount, psiM } = ws;
  const start = ws.classStart, cursor = ws.cursor;
  // sorted values of the samples that count (all of them unless some label occurs once)
  let mv: Float64Array, mo: Int32Array;
  if (t.allMasked) {
    mv = sorted;
    mo = order;
  } else {
    mv = ws.mVals;
    mo = ws.mOrig;
    let q = 0;
    for (let p = 0; p < n; p++) {
      const s = order[p];
      if (counts[codes[s]] > 1) {
        mv[q] = sorted[p];
        mo[q++] = s;
      }
    }
  }
  // bucket by label, keeping each label's values ascending
  start[0] = 0;
  for (let c = 0; c < t.numCodes; c++) {
    const cnt = counts[c] > 1 ? counts[c] : 0;
    start[c + 1] = start[c] + cnt;
    cursor[c] = start[c];
  }
  if (t.ovrClass >= 0 && t.allMasked && ws.sortedLabFor === t.labels) {
    // one-vs-rest target: codes from the labels gathered in sorted order once per column
    const sl = ws.sortedLab, c1 = t.ovrClass, code1 = t.numCodes - 1;
    for (let q = 0; q < M; q++) {
      const at = cursor[sl[q] === c1 ? code1 : 0]++;
      classVals[at] = mv[q];
      classPos[at] = q;
    }
  } else {
    for (let q = 0; q < M; q++) {
      const at = cursor[codes[mo[q]]]++;
      classVals[at] = mv[q];
      classPos[at] = q;
    }
  }
  // R_i, the k-th neighbour distance within the label
  for (let c = 0; c < t.numCodes; c++) {
    const cnt = counts[c];
    if (cnt <= 1) continue;
    if (t.brute[c]) bruteRadii(classVals, start[c], cnt, t.kk[c], radius, classPos, ws.brute);
    else windowRadii(classVals, start[c], cnt, t.kk[c], radius, classPos);
  }
  // m_i over all samples that count
  for (let q = 0; q < M; q++) mCount[mo[q]] = countWithin(mv, M, q, strictBound(radius[q]));
  // psi(m_i) in sample order, as NumPy's mean sees them
  const psi = psiInts(n);
  let t2 = 0;
  if (t.allMasked) {
    for (let i = 0; i < n; i++) psiM[i] = psi[mCount[i]];
    t2 = n;
  } else {
    for (let i = 0; i < n; i++) if (counts[codes[i]] > 1) psiM[t2++] = psi[mCount[i]];
  }
  const mi = t.psiN + t.meanPsiK - t.meanPsiL - numpySum(psiM, 0, t2) / t2;
  return mi > 0 ? mi : 0;
}

// ------------------------------------------------------------------------------------------------------
// Public API

/** sklearn's n_neighbors default. */
export const DEFAULT_N_NEIGHBORS = 3;

export function nNeighborsOf(opts: MutualInfoOptions | undefined): number {
  const nn = opts?.nNeighbors ?? DEFAULT_N_NEIGHBORS;
  if (!Number.isInteger(nn) || nn < 1) throw new RangeError(`mutual information: nNeighbors must be a positive integer, got ${nn}`);
  return nn;
}

/**
 * sklearn's `mutual_info_classif(X, y, discrete_features=False, n_neighbors, random_state)` for a row-major
 * [n, k] feature matrix; returns MI (nats) per feature.
 */
export function mutualInfoClassif(
  features: FeatureArray,
  n: number,
  k: number,
  target: ArrayLike<number | boolean>,
  opts: MutualInfoOptions = {},
): Float64Array {
  const nn = nNeighborsOf(opts);
  checkShape(features, n, k);
  const { codes, numCodes } = encodeLabels(target, n);
  const t = makeTarget(codes, numCodes, nn);
  const cols = prepareFeatures(features, n, k, opts.randomState === undefined ? 0 : opts.randomState);
  const ws = new Workspace(n, numCodes);
  const out = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    ws.sortColumn(cols, j);
    out[j] = miSortedColumn(ws, t);
  }
  return out;
}
