// Mutual information between continuous features and a discrete target, reproducing scikit-learn's
// `mutual_info_classif(X, y, discrete_features=False, n_neighbors, random_state)` (sklearn 1.2,
// feature_selection/_mutual_info.py: `_estimate_mi` + `_compute_mi_cd`, Ross 2014), and the MIS score of
// docs/method.md section 4 built on it.
//
// What is reproduced, step by step (bit for bit where NumPy / SciPy / sklearn are deterministic):
//
// 1. Scaling (`sklearn.preprocessing.scale(X, with_mean=False)`): each column is divided by its population
//    standard deviation (`np.nanstd`, ddof 0), computed in the input's precision (float32 stays float32, as
//    `check_X_y` keeps it) with NumPy's blocked pairwise summation (`X[:, mask]` is Fortran-ordered, so the
//    column reductions run over contiguous memory: pairwise sums over blocks of 8192, added in sequence);
//    a standard deviation below 10 * eps of the dtype counts as 1. The result is then cast to float64.
// 2. Noise: `X += 1e-10 * max(1, mean|x_j|) * rng.standard_normal(size=(n, K))` with
//    `rng = np.random.RandomState(random_state)`: one [n, K] array drawn in row-major order (column j of
//    it goes to feature j). `randomState: null` seeds from Math.random (sklearn would use NumPy's global
//    generator; results are then not reproducible, as in sklearn).
// 3. Per feature, `_compute_mi_cd`: for each label with count > 1, k = min(n_neighbors, count - 1) and
//    r_i = nextafter(distance to the k-th nearest other sample of the same label, 0). sklearn finds these
//    with `NearestNeighbors`, which picks a KD-tree (exact |x_i - x_j|) unless k >= count // 2, where it
//    uses brute force with the GEMM expansion sqrt(max(0, x_i^2 - 2 x_i x_j + x_j^2)); both are replayed
//    exactly. Samples whose label occurs once are dropped; then m_i = #{j : |x_i - x_j| <= r_i} over the
//    remaining samples (itself included; a KD-tree radius count, done here on the sorted column with a
//    galloping search) and
//        MI = psi(n) + mean psi(k_i) - mean psi(count_i) - mean psi(m_i),   clipped below at 0
//    (means are NumPy's pairwise sums / n; psi is SciPy's cephes digamma, with glibc's log).
//
// A quirk this keeps: for labels with few samples (k >= count // 2) the brute-force expansion cannot resolve
// the 1e-10 noise of a constant or near-constant feature, so sklearn reports a spurious positive MI for it
// (0.19 nats in the 'constant_singleton_small' golden case); with the large classes of one-vs-rest MIS this
// does not arise.
//
// Speed: every feature is one-dimensional, so each column is sorted once (radix sort) and reused for all
// targets; k-th neighbour distances come from runs of k + 1 consecutive sorted values and radius counts
// from a scan / galloping search. For one-vs-rest targets the neighbour work of the negatives is shared
// across classes (`OneVsRest`), so a [C][K] matrix costs about O(K N (log N + k C)) with small constants;
// `miMatrixAsync` also spreads features over worker threads. All paths give identical numbers.
import { isMainThread, Worker, workerData, parentPort } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { RandomState, glibcLog } from './numpy_random.js';

export type FeatureArray = Float32Array | Float64Array;

export interface MutualInfoOptions {
  /** Neighbours of the kNN estimator (sklearn's `n_neighbors`), default 3. */
  nNeighbors?: number;
  /** Seed of NumPy's legacy RandomState for the noise (sklearn's `random_state`), default 0; null = random. */
  randomState?: number | null;
  /** Accepted for parity with sklearn; the input is never modified either way. */
  copy?: boolean;
}

export interface MiMatrixOptions extends MutualInfoOptions {
  /**
   * Balanced sampling of negatives (off by default). With it, for each class c = 0, 1, ..., C-1 in turn,
   * with P positives and Q negatives (indices in ascending order): if Q > P, P negatives are drawn without
   * replacement as `neg[rs.choice(Q, P, replace=False)]` (i.e. `rs.permutation(Q)[:P]`) from ONE
   * `np.random.RandomState(balanceSeed)` created per call and shared by the classes in order (no draw when
   * Q <= P, all samples are then used); the rows used are positives and chosen negatives sorted by
   * original index, and M[c, :] = mutual_info_classif(X[rows], y[rows] == c) (scaling and noise recomputed
   * on that subset, noise seeded with `randomState`).
   */
  balanceNegatives?: boolean;
  /** Seed of the balanced sampling, default `randomState` (0 when that is unset or null). */
  balanceSeed?: number;
  /** Column normalisation (off by default): M[:, k] /= sum_c M[c, k]; an all-zero column stays zero. */
  normalizeColumns?: boolean;
  /**
   * Worker threads for `miMatrixAsync` (default: available cores, at most 8); results are identical for
   * any count. The synchronous `miMatrix` ignores it.
   */
  workers?: number;
}

// ------------------------------------------------------------------------------------------------------
// digamma (SciPy's cephes `psi`)

const EULER = 0.5772156649015329;
const PSI_A = [
  8.33333333333333333333e-2, -2.10927960927960927961e-2, 7.57575757575757575758e-3, -4.16666666666666666667e-3,
  3.96825396825396825397e-3, -8.33333333333333333333e-3, 8.33333333333333333333e-2,
];

function psiAsy(x: number): number {
  let y = 0;
  if (x < 1.0e17) {
    const z = 1.0 / (x * x);
    let p = PSI_A[0];
    for (let i = 1; i < 7; i++) p = p * z + PSI_A[i];
    y = z * p;
  }
  return glibcLog(x) - 0.5 / x - y;
}

/**
 * Digamma for x > 0. Positive integers follow SciPy's cephes `psi` exactly (harmonic sum up to 10, then the
 * asymptotic series); other arguments use the recurrence up to x >= 10 and the same series (~1e-15).
 */
export function digamma(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x === Infinity) return x;
  if (x <= 0) throw new RangeError(`digamma: only x > 0 is supported, got ${x}`);
  if (x <= 10.0 && x === Math.floor(x)) {
    let y = 0.0;
    for (let i = 1; i < x; i++) y += 1.0 / i;
    return y - EULER;
  }
  if (x >= 10.0) return psiAsy(x);
  let y = 0.0;
  while (x < 10.0) {
    y -= 1.0 / x;
    x += 1.0;
  }
  return y + psiAsy(x);
}

let psiTable = new Float64Array(0);
/** psi(0..n) for integers (psi(0) unused: NaN). */
function psiInts(n: number): Float64Array {
  if (psiTable.length > n) return psiTable;
  const t = new Float64Array(Math.max(n + 1, 2 * psiTable.length));
  t[0] = NaN;
  for (let i = 1; i < t.length; i++) t[i] = digamma(i);
  psiTable = t;
  return t;
}

// ------------------------------------------------------------------------------------------------------
// NumPy's summation order

/** numpy's pairwise_sum (float64) of a[off .. off+n). */
function pairwise(a: Float64Array, off: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[off + i];
    return res;
  }
  if (n <= 128) {
    let r0 = a[off], r1 = a[off + 1], r2 = a[off + 2], r3 = a[off + 3];
    let r4 = a[off + 4], r5 = a[off + 5], r6 = a[off + 6], r7 = a[off + 7];
    const end = n - (n % 8);
    let i = 8;
    for (; i < end; i += 8) {
      const b = off + i;
      r0 += a[b]; r1 += a[b + 1]; r2 += a[b + 2]; r3 += a[b + 3];
      r4 += a[b + 4]; r5 += a[b + 5]; r6 += a[b + 6]; r7 += a[b + 7];
    }
    let res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
    for (; i < n; i++) res += a[off + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwise(a, off, n2) + pairwise(a, off + n2, n - n2);
}

/** np.add.reduce of a contiguous float64 run: pairwise sums over 8192-element buffers, added in turn. */
export function numpySum(a: Float64Array, off = 0, n = a.length - off): number {
  let s = 0;
  for (let b = 0; b < n; b += 8192) s += pairwise(a, off + b, Math.min(8192, n - b));
  return s;
}

const fr = Math.fround;
function pairwiseF32(a: Float32Array, off: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res = fr(res + a[off + i]);
    return res;
  }
  if (n <= 128) {
    let r0 = a[off], r1 = a[off + 1], r2 = a[off + 2], r3 = a[off + 3];
    let r4 = a[off + 4], r5 = a[off + 5], r6 = a[off + 6], r7 = a[off + 7];
    const end = n - (n % 8);
    let i = 8;
    for (; i < end; i += 8) {
      const b = off + i;
      r0 = fr(r0 + a[b]); r1 = fr(r1 + a[b + 1]); r2 = fr(r2 + a[b + 2]); r3 = fr(r3 + a[b + 3]);
      r4 = fr(r4 + a[b + 4]); r5 = fr(r5 + a[b + 5]); r6 = fr(r6 + a[b + 6]); r7 = fr(r7 + a[b + 7]);
    }
    let res = fr(fr(fr(r0 + r1) + fr(r2 + r3)) + fr(fr(r4 + r5) + fr(r6 + r7)));
    for (; i < n; i++) res = fr(res + a[off + i]);
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return fr(pairwiseF32(a, off, n2) + pairwiseF32(a, off + n2, n - n2));
}
function numpySumF32(a: Float32Array, n: number): number {
  let s = 0;
  for (let b = 0; b < n; b += 8192) s = fr(s + pairwiseF32(a, b, Math.min(8192, n - b)));
  return s;
}

// ------------------------------------------------------------------------------------------------------
// Step 1 + 2: scaling and noise

function checkShape(features: FeatureArray, n: number, k: number): void {
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

// ------------------------------------------------------------------------------------------------------
// Sorting a column (LSD radix sort on the IEEE bits, 3 passes of 11 bits per 32-bit word)

const f64v = new Float64Array(1);
const u32v = new Uint32Array(f64v.buffer);

class ColumnSorter {
  private keyHi: Uint32Array;
  private keyLo: Uint32Array;
  private idxA: Int32Array;
  private idxB: Int32Array;
  private count = new Int32Array(2048);
  constructor(private n: number) {
    this.keyHi = new Uint32Array(n);
    this.keyLo = new Uint32Array(n);
    this.idxA = new Int32Array(n);
    this.idxB = new Int32Array(n);
  }

  /** Fills `order` (sorted position -> sample) and `sorted` (values ascending). */
  sort(col: Float64Array, off: number, order: Int32Array, sorted: Float64Array): void {
    const n = this.n, hi = this.keyHi, lo = this.keyLo;
    for (let i = 0; i < n; i++) {
      f64v[0] = col[off + i];
      let h = u32v[1], l = u32v[0];
      if (h & 0x80000000) {
        h = ~h >>> 0;
        l = ~l >>> 0;
      } else {
        h = (h | 0x80000000) >>> 0;
      }
      hi[i] = h;
      lo[i] = l;
    }
    let src = this.idxA, dst = this.idxB;
    for (let i = 0; i < n; i++) src[i] = i;
    const count = this.count;
    for (let pass = 0; pass < 6; pass++) {
      const key = pass < 3 ? lo : hi;
      const shift = (pass % 3) * 11;
      const width = pass % 3 === 2 ? 10 : 11;
      const mask = (1 << width) - 1;
      count.fill(0);
      for (let i = 0; i < n; i++) count[(key[src[i]] >>> shift) & mask]++;
      let sum = 0;
      for (let b = 0; b <= mask; b++) {
        const c = count[b];
        count[b] = sum;
        sum += c;
      }
      for (let i = 0; i < n; i++) {
        const s = src[i];
        dst[count[(key[s] >>> shift) & mask]++] = s;
      }
      const t = src;
      src = dst;
      dst = t;
    }
    for (let p = 0; p < n; p++) {
      const s = src[p];
      order[p] = s;
      sorted[p] = col[off + s];
    }
  }
}

// ------------------------------------------------------------------------------------------------------
// Targets

interface Target {
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

function makeTarget(codes: Int32Array, numCodes: number, nNeighbors: number): Target {
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

/** Work buffers for one column, reused across targets and features. */
class Workspace {
  order: Int32Array; // sorted position -> sample
  sorted: Float64Array; // column values ascending
  mVals: Float64Array; // the same restricted to samples whose label occurs more than once
  mOrig: Int32Array;
  radius: Float64Array; // by position in mVals
  classVals: Float64Array;
  classPos: Int32Array;
  classStart: Int32Array;
  cursor: Int32Array;
  mCount: Int32Array; // by sample
  psiM: Float64Array;
  brute: Float64Array;
  sorter: ColumnSorter;
  sortedLab: Int32Array; // labels in sorted order (one-vs-rest)
  sortedLabFor: Int32Array | null = null;
  constructor(public n: number, maxCodes: number) {
    this.sortedLab = new Int32Array(n);
    this.order = new Int32Array(n);
    this.sorted = new Float64Array(n);
    this.mVals = new Float64Array(n);
    this.mOrig = new Int32Array(n);
    this.radius = new Float64Array(n);
    this.classVals = new Float64Array(n);
    this.classPos = new Int32Array(n);
    this.classStart = new Int32Array(maxCodes + 1);
    this.cursor = new Int32Array(maxCodes + 1);
    this.mCount = new Int32Array(n);
    this.psiM = new Float64Array(n);
    this.brute = new Float64Array(n);
    this.sorter = new ColumnSorter(n);
  }
  ensureCodes(numCodes: number): void {
    if (this.classStart.length < numCodes + 1) {
      this.classStart = new Int32Array(numCodes + 1);
      this.cursor = new Int32Array(numCodes + 1);
    }
  }
  sortColumn(cols: Float64Array, j: number, labels?: Int32Array): void {
    this.sorter.sort(cols, j * this.n, this.order, this.sorted);
    this.sortedLabFor = labels ?? null;
    if (labels) {
      const order = this.order, sl = this.sortedLab;
      for (let p = 0; p < this.n; p++) sl[p] = labels[order[p]];
    }
  }
}

/**
 * #{q : |mv[q] - mv[p]| < R} over the ascending run mv[0..M) (R > 0; pass Number.MIN_VALUE for "== 0"):
 * a short linear scan each way, galloping beyond 16 steps.
 */
function countWithin(mv: Float64Array, M: number, p: number, R: number): number {
  const xi = mv[p];
  let h = p + 1;
  let lim = M < p + 17 ? M : p + 17;
  while (h < lim && mv[h] - xi < R) h++;
  if (h === lim && h < M) {
    let lo = h - 1, step = 16, hi: number;
    for (;;) {
      const x = lo + step;
      if (x >= M) { hi = M; break; }
      if (mv[x] - xi < R) { lo = x; step *= 2; } else { hi = x; break; }
    }
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (mv[mid] - xi < R) lo = mid; else hi = mid;
    }
    h = lo + 1;
  }
  let g = p - 1;
  lim = p - 17 > -1 ? p - 17 : -1;
  while (g > lim && xi - mv[g] < R) g--;
  if (g === lim && g >= 0) {
    let hi = g + 1, step = 16, lo: number;
    for (;;) {
      const x = hi - step;
      if (x < 0) { lo = -1; break; }
      if (xi - mv[x] < R) { hi = x; step *= 2; } else { lo = x; break; }
    }
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (xi - mv[mid] < R) hi = mid; else lo = mid;
    }
    g = hi - 1;
  }
  return h - g - 1;
}

/** sklearn's r = nextafter(R, 0) and the test d <= r, as a strict bound: d < R, or d == 0 when R == 0. */
function strictBound(R: number): number {
  return R > 0 ? R : Number.MIN_VALUE;
}

/** k-th neighbour distance (KD-tree path) of each member of an ascending run vals[b .. b+cnt), into out[pos[..]]. */
function windowRadii(vals: Float64Array, b: number, cnt: number, k: number, out: Float64Array, pos: Int32Array): void {
  // the k nearest others of a point form, with it, a run of k + 1 consecutive values, so the k-th distance
  // is min over such runs of the larger end distance (rounded differences are monotone in position, so
  // this is the k-th order statistic exactly)
  const last = cnt - 1 - k;
  for (let p = 0; p < cnt; p++) {
    const xp = vals[b + p];
    let d = Infinity;
    const a1 = p < last ? p : last;
    for (let a = p > k ? p - k : 0; a <= a1; a++) {
      const sl = xp - vals[b + a], sr = vals[b + a + k] - xp;
      const span = sl > sr ? sl : sr;
      if (span < d) d = span;
    }
    out[pos[b + p]] = d;
  }
}

/** k-th neighbour distance as sklearn's brute-force ArgKmin computes it, for each member of a run. */
function bruteRadii(vals: Float64Array, b: number, cnt: number, k: number, out: Float64Array, pos: Int32Array, tmp: Float64Array): void {
  // sqrt(max(0, (x_i^2 + (-2 (x_i x_j))) + x_j^2)), the (k+1)-th smallest over the label including the
  // sample itself (exactly 0), which is what remains last once kneighbors() drops the self match
  for (let p = 0; p < cnt; p++) {
    const xi = vals[b + p];
    const si = xi * xi;
    for (let q = 0; q < cnt; q++) {
      const xj = vals[b + q];
      const d = si + -2 * (xi * xj) + xj * xj;
      tmp[q] = d > 0 ? d : 0;
    }
    const view = tmp.subarray(0, cnt);
    view.sort();
    out[pos[b + p]] = Math.sqrt(view[k]);
  }
}

/**
 * MI of the column last sorted into `ws` against target `t` (sklearn's `_compute_mi_cd`).
 *
 * Radii: sklearn's r_i = nextafter(R_i, 0), R_i the k-th neighbour distance, and the KD-tree radius count
 * keeps j when fl((x_i - x_j)^2) <= fl(r_i^2). For doubles d >= 0 and R > 0, squaring is strictly monotone
 * after rounding (consecutive doubles have squares more than one ulp apart), so that test is exactly
 * d <= nextafter(R, 0), i.e. d < R; for R = 0 it is d == 0. The node-level shortcuts of sklearn's tree use
 * the exact node bounds (1-D), so they agree with the per-point test.
 */
function miSortedColumn(ws: Workspace, t: Target): number {
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

function nNeighborsOf(opts: MutualInfoOptions | undefined): number {
  const nn = opts?.nNeighbors ?? 3;
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

function checkLabels(labels: ArrayLike<number>, n: number, numClasses: number): Int32Array {
  if (labels.length !== n) throw new RangeError(`miMatrix: labels has ${labels.length} entries, expected ${n}`);
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new RangeError(`miMatrix: bad numClasses ${numClasses}`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = Number(labels[i]);
    if (!Number.isInteger(v) || v < 0 || v >= numClasses) throw new RangeError(`miMatrix: label ${i} is ${labels[i]}, not in [0, ${numClasses})`);
    out[i] = v;
  }
  return out;
}

function oneVsRestTargets(lab: Int32Array, numClasses: number, nn: number): Target[] {
  const targets: Target[] = [];
  for (let c = 0; c < numClasses; c++) {
    const codes = new Int32Array(lab.length);
    let any0 = false, any1 = false;
    for (let i = 0; i < lab.length; i++) {
      codes[i] = lab[i] === c ? 1 : 0;
      if (codes[i]) any1 = true; else any0 = true;
    }
    // np.unique of a single-valued boolean target has one label: recode to 0
    if (any1 && !any0) codes.fill(0);
    const t = makeTarget(codes, any0 && any1 ? 2 : 1, nn);
    t.ovrClass = any0 && any1 ? c : -1;
    t.labels = lab;
    targets.push(t);
  }
  return targets;
}

/**
 * Shared work of the one-vs-rest targets of one column. For a sample of label l and a target c != l, the
 * sample is a negative and its neighbours are searched among all samples not of label c. Its best run of
 * k + 1 values among ALL samples (radius R_all) is also a run among those when it holds no sample of
 * label c, and no subset of them can do better, so its radius and its count m are the shared ones; only
 * the samples whose best run holds label c (at most k per sample over all c) and the positives of c are
 * recomputed per target. Results are identical to `miSortedColumn`.
 */
class OneVsRest {
  rAll: Float64Array;
  psiOrig: Float64Array; // psi(m_all) in sample order
  affStart: Int32Array; // per label c: positions whose best run holds label c (and are not of label c)
  affPos: Int32Array;
  labStart: Int32Array; // positions grouped by label, ascending
  labPos: Int32Array;
  vals: Float64Array;
  radius: Float64Array;
  pos: Int32Array;
  stamp: Int32Array;
  pairP: Int32Array;
  pairL: Int32Array;
  constructor(public n: number, public numClasses: number, public k: number) {
    this.rAll = new Float64Array(n);
    this.psiOrig = new Float64Array(n);
    this.affStart = new Int32Array(numClasses + 1);
    this.affPos = new Int32Array(n * k);
    this.labStart = new Int32Array(numClasses + 1);
    this.labPos = new Int32Array(n);
    this.vals = new Float64Array(n);
    this.radius = new Float64Array(n);
    this.pos = new Int32Array(n);
    this.stamp = new Int32Array(numClasses);
    this.pairP = new Int32Array(n * k);
    this.pairL = new Int32Array(n * k);
  }

  /** Whether target t (built by oneVsRestTargets with nNeighbors k) can use the shared work. */
  eligible(t: Target): boolean {
    return t.ovrClass >= 0 && t.allMasked && t.numCodes === 2 && t.kk[0] === this.k && !t.brute[0];
  }

  base(ws: Workspace): void {
    const n = this.n, k = this.k, C = this.numClasses;
    const v = ws.sorted, sl = ws.sortedLab;
    const { rAll, stamp, pairP, pairL, affStart, affPos, labStart, labPos } = this;
    const psi = psiInts(n);
    stamp.fill(-1);
    affStart.fill(0);
    let np = 0;
    const last = n - 1 - k;
    for (let p = 0; p < n; p++) {
      const xp = v[p];
      let d = Infinity, best = 0;
      const a1 = p < last ? p : last;
      for (let a = p > k ? p - k : 0; a <= a1; a++) {
        const l = xp - v[a], r = v[a + k] - xp;
        const span = l > r ? l : r;
        if (span < d) { d = span; best = a; }
      }
      rAll[p] = d;
      const lp = sl[p];
      for (let q = best; q <= best + k; q++) {
        const l = sl[q];
        if (l !== lp && stamp[l] !== p) {
          stamp[l] = p;
          pairP[np] = p;
          pairL[np++] = l;
          affStart[l + 1]++;
        }
      }
    }
    for (let c = 0; c < C; c++) affStart[c + 1] += affStart[c];
    const cur = this.stamp; // reuse as cursors
    for (let c = 0; c < C; c++) cur[c] = affStart[c];
    for (let e = 0; e < np; e++) affPos[cur[pairL[e]]++] = pairP[e];
    // positions by label
    labStart.fill(0);
    for (let p = 0; p < n; p++) labStart[sl[p] + 1]++;
    for (let c = 0; c < C; c++) labStart[c + 1] += labStart[c];
    for (let c = 0; c < C; c++) cur[c] = labStart[c];
    for (let p = 0; p < n; p++) labPos[cur[sl[p]]++] = p;
    // shared counts, in sample order
    const order = ws.order, po = this.psiOrig;
    for (let p = 0; p < n; p++) po[order[p]] = psi[countWithin(v, n, p, strictBound(rAll[p]))];
  }

  mi(ws: Workspace, t: Target): number {
    const n = this.n, k = this.k, c = t.ovrClass;
    const v = ws.sorted, sl = ws.sortedLab, order = ws.order;
    const psi = psiInts(n);
    const psiM = ws.psiM;
    psiM.set(this.psiOrig);
    // negatives whose best run holds a positive: neighbours among the negatives only (merge, skipping c)
    const { affStart, affPos } = this;
    for (let e = affStart[c]; e < affStart[c + 1]; e++) {
      const p = affPos[e];
      const xp = v[p];
      let l = p - 1, r = p + 1, d = 0;
      for (let s = 0; s < k; s++) {
        while (l >= 0 && sl[l] === c) l--;
        while (r < n && sl[r] === c) r++;
        const dl = l >= 0 ? xp - v[l] : Infinity;
        const dr = r < n ? v[r] - xp : Infinity;
        if (dl <= dr) { d = dl; l--; } else { d = dr; r++; }
      }
      psiM[order[p]] = psi[countWithin(v, n, p, strictBound(d))];
    }
    // positives: neighbours within the class
    const b = this.labStart[c], cnt = this.labStart[c + 1] - b;
    const vals = this.vals, pos = this.pos, radius = this.radius;
    for (let q = 0; q < cnt; q++) {
      const p = this.labPos[b + q];
      vals[q] = v[p];
      pos[q] = q;
    }
    if (t.brute[1]) bruteRadii(vals, 0, cnt, t.kk[1], radius, pos, ws.brute);
    else windowRadii(vals, 0, cnt, t.kk[1], radius, pos);
    for (let q = 0; q < cnt; q++) {
      const p = this.labPos[b + q];
      psiM[order[p]] = psi[countWithin(v, n, p, strictBound(radius[q]))];
    }
    const mi = t.psiN + t.meanPsiK - t.meanPsiL - numpySum(psiM, 0, n) / n;
    return mi > 0 ? mi : 0;
  }
}

/** Features j0..j1 of a one-vs-rest matrix, written to out[c * k + j]; `cols` holds features from `colBase`. */
function oneVsRestRange(cols: Float64Array, n: number, k: number, targets: Target[], j0: number, j1: number, out: Float64Array, colBase = 0, nn = 3): void {
  const ws = new Workspace(n, 2);
  const labels = targets[0]?.labels ?? undefined;
  const ovr = labels && n > nn ? new OneVsRest(n, targets.length, nn) : null;
  const fast = targets.map((t) => (ovr ? ovr.eligible(t) : false));
  const anyFast = fast.some((f) => f);
  for (let j = j0; j < j1; j++) {
    ws.sortColumn(cols, j - colBase, labels);
    if (anyFast) ovr!.base(ws);
    for (let c = 0; c < targets.length; c++) out[c * k + j] = fast[c] ? ovr!.mi(ws, targets[c]) : miSortedColumn(ws, targets[c]);
  }
}

function normalizeColumnsInPlace(m: Float64Array, C: number, K: number): void {
  for (let j = 0; j < K; j++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += m[c * K + j];
    if (s > 0) for (let c = 0; c < C; c++) m[c * K + j] /= s;
  }
}

function balancedMatrix(features: FeatureArray, n: number, k: number, lab: Int32Array, C: number, opts: MiMatrixOptions): Float64Array {
  const rs = new RandomState(opts.balanceSeed ?? opts.randomState ?? 0);
  const out = new Float64Array(C * k);
  for (let c = 0; c < C; c++) {
    const pos: number[] = [], neg: number[] = [];
    for (let i = 0; i < n; i++) (lab[i] === c ? pos : neg).push(i);
    let rows: Int32Array;
    if (neg.length > pos.length) {
      const pick = rs.choiceWithoutReplacement(neg.length, pos.length);
      const chosen = Array.from(pick, (p) => neg[p]);
      rows = Int32Array.from(pos.concat(chosen)).sort();
    } else {
      rows = new Int32Array(n).map((_, i) => i);
    }
    const m = rows.length;
    const sub = features instanceof Float32Array ? new Float32Array(m * k) : new Float64Array(m * k);
    const y = new Uint8Array(m);
    for (let r = 0; r < m; r++) {
      const i = rows[r];
      sub.set(features.subarray(i * k, i * k + k), r * k);
      y[r] = lab[i] === c ? 1 : 0;
    }
    const mi = mutualInfoClassif(sub, m, k, y, opts);
    out.set(mi, c * k);
  }
  return out;
}

/**
 * One-vs-rest MI matrix M[c, k] = mutual_info_classif(F, labels == c)[k], as a row-major [C][K] array.
 * The noised features are computed once (sklearn redraws the same noise for every class, random_state
 * being fixed), and each column is sorted once for all classes.
 */
export function miMatrix(features: FeatureArray, n: number, k: number, labels: ArrayLike<number>, numClasses: number, opts: MiMatrixOptions = {}): Float64Array {
  checkShape(features, n, k);
  const lab = checkLabels(labels, n, numClasses);
  const nn = nNeighborsOf(opts);
  let out: Float64Array;
  if (opts.balanceNegatives) {
    out = balancedMatrix(features, n, k, lab, numClasses, opts);
  } else {
    const cols = prepareFeatures(features, n, k, opts.randomState === undefined ? 0 : opts.randomState);
    out = new Float64Array(numClasses * k);
    oneVsRestRange(cols, n, k, oneVsRestTargets(lab, numClasses, nn), 0, k, out, 0, nn);
  }
  if (opts.normalizeColumns) normalizeColumnsInPlace(out, numClasses, k);
  return out;
}

/**
 * As `miMatrix`, spreading the features over `opts.workers` worker threads (default: available cores, at
 * most 8, and none for fewer than 2^21 feature values). Each thread scales, noises (replaying the one noise
 * stream, evaluating only its own values), sorts and scores a contiguous block of features, so the result
 * is identical to `miMatrix`. Balanced sampling runs on this thread.
 */
export async function miMatrixAsync(features: FeatureArray, n: number, k: number, labels: ArrayLike<number>, numClasses: number, opts: MiMatrixOptions = {}): Promise<Float64Array> {
  // by default, small problems stay on this thread (starting workers costs more than they save)
  const auto = opts.workers === undefined;
  const workers = Math.max(1, Math.min(opts.workers ?? Math.min(8, availableParallelism()), k));
  if (workers === 1 || opts.balanceNegatives || (auto && n * k < 1 << 21)) return miMatrix(features, n, k, labels, numClasses, opts);
  checkShape(features, n, k);
  const lab = checkLabels(labels, n, numClasses);
  const nn = nNeighborsOf(opts);
  const seed = opts.randomState === undefined ? 0 : opts.randomState ?? Math.floor(Math.random() * 0x100000000);
  const shared = features instanceof Float32Array
    ? new Float32Array(new SharedArrayBuffer(features.byteLength))
    : new Float64Array(new SharedArrayBuffer(features.byteLength));
  shared.set(features);
  const out = new Float64Array(new SharedArrayBuffer(numClasses * k * 8));
  const labShared = new Int32Array(new SharedArrayBuffer(n * 4));
  labShared.set(lab);
  const jobs: Promise<void>[] = [];
  for (let w = 0; w < workers; w++) {
    const j0 = Math.floor((w * k) / workers), j1 = Math.floor(((w + 1) * k) / workers);
    jobs.push(
      new Promise<void>((resolve, reject) => {
        const worker = new Worker(new URL(import.meta.url), {
          workerData: { csgnetMiWorker: true, features: shared, out, lab: labShared, n, k, numClasses, nn, seed, j0, j1 },
        });
        worker.once('error', reject);
        worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`mutual information worker exited with code ${code}`))));
      }),
    );
  }
  await Promise.all(jobs);
  const result = Float64Array.from(out);
  if (opts.normalizeColumns) normalizeColumnsInPlace(result, numClasses, k);
  return result;
}

/** MIS = mean over features k of max over classes c of M[c, k] (M row-major [C][K]). */
export function mis(matrix: ArrayLike<number>, C: number, K: number): number {
  if (matrix.length !== C * K) throw new RangeError(`mis: matrix has ${matrix.length} entries, expected ${C}*${K}`);
  let s = 0;
  for (let k = 0; k < K; k++) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, matrix[c * K + k]);
    s += m;
  }
  return s / K;
}

// Worker entry: only when this module is started by miMatrixAsync.
if (!isMainThread && workerData && (workerData as { csgnetMiWorker?: boolean }).csgnetMiWorker) {
  const d = workerData as {
    features: FeatureArray; out: Float64Array; lab: Int32Array; n: number; k: number; numClasses: number; nn: number;
    seed: number; j0: number; j1: number;
  };
  const targets = oneVsRestTargets(d.lab, d.numClasses, d.nn);
  const cols = prepareFeatures(d.features, d.n, d.k, d.seed, d.j0, d.j1);
  oneVsRestRange(cols, d.n, d.k, targets, d.j0, d.j1, d.out, d.j0, d.nn);
  parentPort?.close();
}
