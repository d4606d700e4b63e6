// Post-hoc analysis of a trained model's filters, over plain typed arrays (no tensors), for STD and
// CSG models alike (docs/method.md sections 1 and 4).
//
// Layouts (all row-major, flat):
//   - MI matrix      M: [C][K]  (M[c*K + k] = mutual information between filter k and "class == c"),
//   - gate           G: [K][C]  (G[k*C + c]; also accepted as number[][] with K rows of C values),
//   - GAP features   F: [N][K]  (F[n*K + k]),
//   - assignments:   Int32Array [K] of class indices in [0, C).
//
// Conventions shared by every function here:
//   - argmax ties go to the lowest index; NaN never wins an argmax (a row or column that is all NaN
//     is assigned class 0);
//   - sizes are checked and a mismatch throws a RangeError rather than reading out of bounds.

export type Matrix = ArrayLike<number>;
export type GateLike = ArrayLike<number> | ArrayLike<ArrayLike<number>>;

function checkDims(name: string, ...dims: number[]): void {
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`${name}: dimensions must be non-negative integers, got ${dims.join('x')}`);
  }
}

function checkLength(name: string, actual: number, expected: number, shape: string): void {
  if (actual !== expected) throw new RangeError(`${name}: expected ${expected} values (${shape}), got ${actual}`);
}

/** Flattens a gate given as K rows of C values (or already flat, K*C values) into a Float64Array. */
export function flattenGate(G: GateLike, K: number, C: number): Float64Array {
  checkDims('flattenGate', K, C);
  const out = new Float64Array(K * C);
  if (G.length > 0 && typeof G[0] !== 'number') {
    const rows = G as ArrayLike<ArrayLike<number>>;
    checkLength('gate rows', rows.length, K, `K=${K}`);
    for (let k = 0; k < K; k++) {
      const row = rows[k]!;
      checkLength(`gate row ${k}`, row.length, C, `C=${C}`);
      for (let c = 0; c < C; c++) out[k * C + c] = row[c]!;
    }
  } else {
    const flat = G as ArrayLike<number>;
    checkLength('gate', flat.length, K * C, `[K=${K}][C=${C}]`);
    for (let i = 0; i < K * C; i++) out[i] = flat[i]!;
  }
  return out;
}

/**
 * The gate's own filter-to-class assignment: `argmax_c G[k, c]` for every filter k (section 1).
 * Ties go to the lowest class index (after the projection every row has max 1, so ties between
 * fully open classes are common); NaN entries are ignored.
 */
export function gateAssignment(G: GateLike, K: number, C: number): Int32Array {
  const g = flattenGate(G, K, C);
  return argmaxPerFilter(K, C, (k, c) => g[k * C + c]!);
}

/** Assignment by mutual information: `argmax_c M[c, k]` per filter (M is [C][K]); ties -> lowest c. */
export function miAssignment(M: Matrix, C: number, K: number): Int32Array {
  checkDims('miAssignment', C, K);
  checkLength('MI matrix', M.length, C * K, `[C=${C}][K=${K}]`);
  return argmaxPerFilter(K, C, (k, c) => M[c * K + k]!);
}

/** For each filter k, the class c of the largest value(k, c): ties -> lowest c; NaN never wins (all NaN -> 0). */
function argmaxPerFilter(K: number, C: number, value: (k: number, c: number) => number): Int32Array {
  const out = new Int32Array(K);
  for (let k = 0; k < K; k++) {
    let best = 0, bestV = -Infinity;
    for (let c = 0; c < C; c++) {
      const v = value(k, c);
      if (v > bestV) { bestV = v; best = c; }
    }
    out[k] = best;
  }
  return out;
}

/** Fraction of filters on which two assignments agree. Lengths must match; empty inputs give NaN. */
export function assignmentAgreement(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkLength('assignmentAgreement', b.length, a.length, 'same length as the first assignment');
  if (a.length === 0) return NaN;
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/** Number of filters assigned to each class (the "related filter number" per class); length C. */
export function relatedFilterCounts(assignment: ArrayLike<number>, C: number): number[] {
  checkDims('relatedFilterCounts', C);
  const counts = new Array<number>(C).fill(0);
  for (let k = 0; k < assignment.length; k++) {
    const c = assignment[k]!;
    if (!Number.isInteger(c) || c < 0 || c >= C) throw new RangeError(`relatedFilterCounts: filter ${k} has class ${c}, outside [0, ${C})`);
    counts[c]!++;
  }
  return counts;
}

/**
 * Class specificity of every filter: `max_c M[c, k] / sum_c M[c, k]`, in [1/C, 1]; 1 means all of
 * the filter's information concerns one class, 1/C means it is spread evenly.
 *
 * MI is non-negative (scikit-learn clips it at 0); negative entries, should any occur, are treated as
 * 0 so that the ratio stays in range. A filter with no information about any class (sum 0, i.e. 0/0)
 * gets 1/C, the value of an evenly spread filter, so it counts as unspecific rather than as NaN.
 */
export function specificity(M: Matrix, C: number, K: number): Float64Array {
  checkDims('specificity', C, K);
  checkLength('MI matrix', M.length, C * K, `[C=${C}][K=${K}]`);
  const out = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let max = 0, sum = 0;
    for (let c = 0; c < C; c++) {
      const raw = M[c * K + k]!;
      const v = raw > 0 ? raw : 0; // negatives and NaN -> 0
      sum += v;
      if (v > max) max = v;
    }
    out[k] = sum > 0 ? max / sum : 1 / C;
  }
  return out;
}

/**
 * Histogram with `bins` equal-width bins over [lo, hi], matching `numpy.histogram(values, bins,
 * range=(lo, hi))`: bins are half-open [e_i, e_{i+1}) except the last, which includes hi; values
 * outside [lo, hi] and NaN are not counted. `edges` has bins + 1 entries (numpy's linspace).
 */
export function histogram(values: ArrayLike<number>, bins: number, lo = 0, hi = 1): { edges: number[]; counts: number[] } {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`histogram: bins must be a positive integer, got ${bins}`);
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) throw new RangeError(`histogram: need finite lo < hi, got [${lo}, ${hi}]`);
  const step = (hi - lo) / bins;
  const edges = new Array<number>(bins + 1);
  for (let i = 0; i < bins; i++) edges[i] = i * step + lo;
  edges[bins] = hi;
  const counts = new Array<number>(bins).fill(0);
  const norm = bins / (hi - lo);
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (!(x >= lo && x <= hi)) continue;
    // numpy's fast path for equal bins, including its correction against the computed edges
    let j = Math.trunc((x - lo) * norm);
    if (j === bins) j--;
    if (x < edges[j]!) j--;
    else if (j !== bins - 1 && x >= edges[j + 1]!) j++;
    counts[j]!++;
  }
  return { edges, counts };
}

/**
 * Pearson correlation between the K GAP features over the N samples, as a [K][K] row-major
 * Float64Array (what `numpy.corrcoef(F, rowvar=False)` gives, accumulated in float64 and clipped to
 * [-1, 1]). A constant feature (all N values identical, or N < 2) has no defined correlation
 * (numpy gives NaN); here it gets 0 with every other feature and 1 on the diagonal, so heatmaps and
 * averages stay finite. Cost O(N K^2): about 2e10 multiply-adds, tens of seconds, for N=10000, K=2048.
 */
export function correlationMatrix(F: Matrix, N: number, K: number): Float64Array {
  checkDims('correlationMatrix', N, K);
  checkLength('features', F.length, N * K, `[N=${N}][K=${K}]`);
  const mean = new Float64Array(K);
  const constant = new Uint8Array(K).fill(1);
  for (let n = 0; n < N; n++) {
    const base = n * K;
    for (let k = 0; k < K; k++) {
      const v = F[base + k]!;
      mean[k]! += v;
      if (constant[k] && v !== F[k]) constant[k] = 0;
    }
  }
  for (let k = 0; k < K; k++) mean[k]! /= N;
  // upper triangle of the centred cross-product matrix, one outer product per sample
  const S = new Float64Array(K * K);
  const x = new Float64Array(K);
  for (let n = 0; n < N; n++) {
    const base = n * K;
    for (let k = 0; k < K; k++) x[k] = F[base + k]! - mean[k]!;
    for (let i = 0; i < K; i++) {
      const xi = x[i]!;
      if (xi === 0) continue;
      const row = i * K;
      for (let j = i; j < K; j++) S[row + j]! += xi * x[j]!;
    }
  }
  const sd = new Float64Array(K);
  for (let k = 0; k < K; k++) sd[k] = N < 2 || constant[k] ? 0 : Math.sqrt(S[k * K + k]!);
  const R = new Float64Array(K * K);
  for (let i = 0; i < K; i++) {
    R[i * K + i] = 1;
    for (let j = i + 1; j < K; j++) {
      let r = 0;
      if (sd[i]! > 0 && sd[j]! > 0) {
        r = S[i * K + j]! / sd[i]! / sd[j]!;
        if (r > 1) r = 1; else if (r < -1) r = -1;
      }
      R[i * K + j] = r;
      R[j * K + i] = r;
    }
  }
  return R;
}

/**
 * Filter order for plots: by assigned class (ascending), then by descending `score` within a class
 * (e.g. the gate value or the MI with the assigned class), then by filter index. NaN scores go last
 * within their class. Without a score, filters keep index order within each class.
 */
export function orderByAssignment(assignment: ArrayLike<number>, score?: ArrayLike<number>): Int32Array {
  const K = assignment.length;
  if (score !== undefined) checkLength('orderByAssignment score', score.length, K, 'one per filter');
  const idx = Array.from({ length: K }, (_, i) => i);
  const key = (i: number): number => {
    const s = score === undefined ? 0 : score[i]!;
    return Number.isNaN(s) ? -Infinity : s;
  };
  idx.sort((a, b) => {
    const ca = assignment[a]!, cb = assignment[b]!;
    if (ca !== cb) return ca - cb;
    const sa = key(a), sb = key(b);
    if (sa !== sb) return sb > sa ? 1 : -1;
    if (score !== undefined) {
      const na = Number.isNaN(score[a]!), nb = Number.isNaN(score[b]!);
      if (na !== nb) return na ? 1 : -1;
    }
    return a - b;
  });
  return Int32Array.from(idx);
}

/**
 * Reorders (or selects) rows and columns of a row-major [rows][cols] matrix:
 * `out[i][j] = mat[rowOrder[i]][colOrder[j]]`. An omitted order is the identity. Orders may be any
 * list of valid indices (a permutation, a subset, repeats); the result is
 * [rowOrder.length][colOrder.length].
 */
export function permuteMatrix(mat: Matrix, rows: number, cols: number, rowOrder?: ArrayLike<number>, colOrder?: ArrayLike<number>): Float64Array {
  checkDims('permuteMatrix', rows, cols);
  checkLength('permuteMatrix', mat.length, rows * cols, `[${rows}][${cols}]`);
  const ro = rowOrder ?? Int32Array.from({ length: rows }, (_, i) => i);
  const co = colOrder ?? Int32Array.from({ length: cols }, (_, i) => i);
  for (let i = 0; i < ro.length; i++) if (!Number.isInteger(ro[i]) || ro[i]! < 0 || ro[i]! >= rows) throw new RangeError(`permuteMatrix: row index ${ro[i]} outside [0, ${rows})`);
  for (let j = 0; j < co.length; j++) if (!Number.isInteger(co[j]) || co[j]! < 0 || co[j]! >= cols) throw new RangeError(`permuteMatrix: column index ${co[j]} outside [0, ${cols})`);
  const R = ro.length, Cn = co.length;
  const out = new Float64Array(R * Cn);
  for (let i = 0; i < R; i++) {
    const src = ro[i]! * cols;
    for (let j = 0; j < Cn; j++) out[i * Cn + j] = mat[src + co[j]!]!;
  }
  return out;
}

/**
 * Gate density `sum|G| / (K*C)` (section 2): the mean absolute gate value. Accepts the flat [K][C]
 * array or K rows; an empty gate gives NaN.
 */
export function gateDensity(G: GateLike): number {
  let sum = 0, n = 0;
  if (G.length > 0 && typeof G[0] !== 'number') {
    const rows = G as ArrayLike<ArrayLike<number>>;
    for (let k = 0; k < rows.length; k++) {
      const row = rows[k]!;
      for (let c = 0; c < row.length; c++) { sum += Math.abs(row[c]!); n++; }
    }
  } else {
    const flat = G as ArrayLike<number>;
    for (let i = 0; i < flat.length; i++) sum += Math.abs(flat[i]!);
    n = flat.length;
  }
  return n === 0 ? NaN : sum / n;
}

