// The one-vs-rest MI matrix M[c, k] and the MIS score built on it (see ../mutual_info.ts), on this
// thread; pool.ts spreads the same work over worker threads.
import { RandomState } from '../numpy_random.js';
import { checkShape, prepareFeatures, type FeatureArray } from './prepare.js';
import { numpySum, psiInts } from './numerics.js';
import { Workspace, bruteRadii, countWithin, strictBound, windowRadii } from './knn.js';
import { makeTarget, miSortedColumn, mutualInfoClassif, nNeighborsOf, type MutualInfoOptions, type Target } from './estimator.js';

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
  /** Column normalization (off by default): M[:, k] /= sum_c M[c, k]; an all-zero column stays zero. */
  normalizeColumns?: boolean;
  /**
   * Worker threads for `miMatrixAsync` (default: available cores, at most 8); results are identical for
   * any count. The synchronous `miMatrix` ignores it.
   */
  workers?: number;
}

export function checkLabels(labels: ArrayLike<number>, n: number, numClasses: number): Int32Array {
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

export function oneVsRestTargets(lab: Int32Array, numClasses: number, nn: number): Target[] {
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
export function oneVsRestRange(cols: Float64Array, n: number, k: number, targets: Target[], j0: number, j1: number, out: Float64Array, colBase = 0, nn = 3): void {
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

export function normalizeColumnsInPlace(m: Float64Array, C: number, K: number): void {
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
