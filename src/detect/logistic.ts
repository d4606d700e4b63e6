// Binary L2-regularized logistic regression in float64, the optimum of scikit-learn's
// LogisticRegression(C) (penalty 'l2', intercept fitted and not penalized):
//   min_{w,b} 0.5 |w|^2 + C sum_i log(1 + exp(-s_i (x_i . w + b))),  s_i = 2 y_i - 1.
// sklearn reaches it with lbfgs; the problem is convex and tiny (a few features), so Newton's method with
// a backtracking line search gets the same optimum to rounding. Plus z-scoring as sklearn's StandardScaler.
import { solveSpd } from './linalg.js';

/** log(1 + exp(z)) without overflow. */
function softplus(z: number): number { return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)); }
function sigmoid(z: number): number { return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)); }

export interface LogisticOptions { /** inverse regularization strength, sklearn's C (default 1) */ C?: number; maxIter?: number }

export class LogisticRegression {
  /** weights [d] and intercept after fit */
  coef = new Float64Array(0);
  intercept = 0;
  /** Newton iterations used by the last fit */
  iterations = 0;

  constructor(readonly options: LogisticOptions = {}) {
    const C = options.C ?? 1;
    if (!(C > 0 && Number.isFinite(C))) throw new Error(`LogisticRegression: C must be a positive number, got ${C}`);
  }

  get fitted(): boolean { return this.coef.length > 0; }

  /** x row-major [n, d]; y 0/1 [n] with both classes present. */
  fit(x: ArrayLike<number>, y: ArrayLike<number>, d: number): this {
    const n = y.length;
    if (!(Number.isInteger(d) && d > 0) || x.length !== n * d) throw new Error(`LogisticRegression: x must hold ${n} x ${d} values, got ${x.length}`);
    let pos = 0;
    for (let i = 0; i < n; i++) {
      if (y[i] !== 0 && y[i] !== 1) throw new Error(`LogisticRegression: labels must be 0 or 1, label ${i} is ${y[i]}`);
      pos += y[i]!;
    }
    if (pos === 0 || pos === n) throw new Error(`LogisticRegression: needs both classes, got ${pos} of ${n} positive`);
    for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) throw new Error(`LogisticRegression: feature ${i % d} of sample ${Math.floor(i / d)} is ${x[i]}`);
    const C = this.options.C ?? 1, maxIter = this.options.maxIter ?? 100;
    const p = d + 1;   // parameters: w then b
    let theta = new Float64Array(p);
    const margin = (t: Float64Array, i: number): number => { let z = t[d]!; for (let j = 0; j < d; j++) z += x[i * d + j]! * t[j]!; return z; };
    const objective = (t: Float64Array): number => {
      let f = 0;
      for (let j = 0; j < d; j++) f += 0.5 * t[j]! * t[j]!;
      for (let i = 0; i < n; i++) f += C * softplus(-(2 * y[i]! - 1) * margin(t, i));
      return f;
    };
    let f = objective(theta);
    this.iterations = 0;
    for (let it = 0; it < maxIter; it++) {
      const g = new Float64Array(p), H = new Float64Array(p * p);
      for (let j = 0; j < d; j++) { g[j] = theta[j]!; H[j * p + j] = 1; }
      for (let i = 0; i < n; i++) {
        const q = sigmoid(margin(theta, i));
        const r = C * (q - y[i]!), w = C * q * (1 - q);
        for (let a = 0; a < p; a++) {
          const xa = a < d ? x[i * d + a]! : 1;
          g[a]! += r * xa;
          for (let b = 0; b <= a; b++) H[a * p + b]! += w * xa * (b < d ? x[i * d + b]! : 1);
        }
      }
      for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) H[b * p + a] = H[a * p + b]!;
      let gmax = 0;
      for (const v of g) gmax = Math.max(gmax, Math.abs(v));
      if (gmax <= 1e-12 * Math.max(1, C * n)) break;
      // the intercept's row has no ridge term: with separable data and a tiny curvature, add a hair to keep H definite
      let step: Float64Array;
      try { step = solveSpd(H, g, p); } catch { H[p * p - 1]! += 1e-12; step = solveSpd(H, g, p); }
      let t = 1, next = theta, fNext = f;
      for (let k = 0; k < 60; k++, t /= 2) {
        next = theta.map((v, j) => v - t * step[j]!);
        fNext = objective(next);
        if (fNext <= f) break;
      }
      this.iterations = it + 1;
      if (!(fNext <= f)) break;   // no descent left: at the optimum to rounding
      const moved = theta.some((v, j) => v !== next[j]);
      theta = next; f = fNext;
      if (!moved) break;
    }
    this.coef = theta.slice(0, d);
    this.intercept = theta[d]!;
    return this;
  }

  /** x . w + b for each row of x [n, d] (sklearn's decision_function). */
  decisionFunction(x: ArrayLike<number>): Float64Array {
    const d = this.coef.length;
    if (!d) throw new Error('LogisticRegression: call fit before decisionFunction');
    if (x.length % d !== 0) throw new Error(`LogisticRegression: x must have ${d} features per row, got ${x.length} values`);
    const out = new Float64Array(x.length / d);
    for (let i = 0; i < out.length; i++) {
      let z = this.intercept;
      for (let j = 0; j < d; j++) z += x[i * d + j]! * this.coef[j]!;
      out[i] = z;
    }
    return out;
  }
}

/** z-scoring with the fit set's mean and population standard deviation; constant features keep scale 1 (as StandardScaler). */
export class Standardizer {
  mean = new Float64Array(0);
  scale = new Float64Array(0);

  fit(x: ArrayLike<number>, d: number): this {
    const n = x.length / d;
    if (!(Number.isInteger(n) && n > 0)) throw new Error(`Standardizer: x must hold n x ${d} values (n > 0), got ${x.length}`);
    this.mean = new Float64Array(d); this.scale = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) this.mean[j]! += x[i * d + j]! / n;
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) this.scale[j]! += (x[i * d + j]! - this.mean[j]!) ** 2 / n;
    for (let j = 0; j < d; j++) { const s = Math.sqrt(this.scale[j]!); this.scale[j] = s > 0 ? s : 1; }
    return this;
  }

  transform(x: ArrayLike<number>): Float64Array {
    const d = this.mean.length;
    if (!d) throw new Error('Standardizer: call fit before transform');
    if (x.length % d !== 0) throw new Error(`Standardizer: x must have ${d} features per row, got ${x.length} values`);
    const out = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = (x[i]! - this.mean[i % d]!) / this.scale[i % d]!;
    return out;
  }
}

/**
 * The test fold of each sample under sklearn's StratifiedKFold(folds, shuffle=False): classes in order of
 * first appearance, each class's samples (in index order) dealt to folds in blocks, the block sizes those of
 * a round robin over the class-sorted labels.
 */
export function stratifiedFolds(y: ArrayLike<number>, folds: number): Int32Array {
  const order: number[] = [];   // class values by first appearance
  for (let i = 0; i < y.length; i++) if (!order.includes(y[i]!)) order.push(y[i]!);
  const enc = Array.from(y, (v) => order.indexOf(v));
  const sorted = [...enc].sort((a, b) => a - b);
  const alloc = Array.from({ length: folds }, () => new Array<number>(order.length).fill(0));
  sorted.forEach((c, i) => alloc[i % folds]![c]!++);
  const out = new Int32Array(y.length);
  for (let c = 0; c < order.length; c++) {
    const blocks: number[] = [];
    for (let f = 0; f < folds; f++) for (let r = 0; r < alloc[f]![c]!; r++) blocks.push(f);
    let at = 0;
    for (let i = 0; i < y.length; i++) if (enc[i] === c) out[i] = blocks[at++]!;
  }
  return out;
}

export interface LogisticCVOptions { /** the candidate C values (default sklearn's: 10 from 1e-4 to 1e4, log-spaced) */ Cs?: number[]; folds?: number }

/**
 * sklearn's LogisticRegressionCV (the detectors of Feinman et al. 2017 and Ma et al. 2018): for each C the
 * accuracy on each stratified fold of a fit on the others; the C with the largest summed accuracy (the first
 * on ties) is refitted on all samples. Fewer than 2 samples of a class leave no folds: C = 1 then.
 */
export function logisticRegressionCV(x: ArrayLike<number>, y: ArrayLike<number>, d: number, o: LogisticCVOptions = {}): { model: LogisticRegression; C: number } {
  const Cs = o.Cs ?? Array.from({ length: 10 }, (_, i) => 10 ** (-4 + (8 * i) / 9));
  let pos = 0;
  for (let i = 0; i < y.length; i++) pos += y[i] === 1 ? 1 : 0;
  const folds = Math.min(o.folds ?? 5, pos, y.length - pos);
  if (folds < 2) return { model: new LogisticRegression({ C: 1 }).fit(x, y, d), C: 1 };
  const fold = stratifiedFolds(y, folds);
  const total = new Float64Array(Cs.length);
  for (let f = 0; f < folds; f++) {
    const tr: number[] = [], te: number[] = [];
    for (let i = 0; i < y.length; i++) (fold[i] === f ? te : tr).push(i);
    const rows = (idx: number[]) => { const r = new Float64Array(idx.length * d); idx.forEach((i, k) => { for (let j = 0; j < d; j++) r[k * d + j] = x[i * d + j]!; }); return r; };
    const xtr = rows(tr), ytr = tr.map((i) => y[i]!), xte = rows(te);
    Cs.forEach((C, ci) => {
      const dec = new LogisticRegression({ C }).fit(xtr, ytr, d).decisionFunction(xte);
      let right = 0;
      te.forEach((i, k) => { right += (dec[k]! > 0 ? 1 : 0) === y[i] ? 1 : 0; });
      total[ci]! += right / te.length;
    });
  }
  let best = 0;
  for (let ci = 1; ci < Cs.length; ci++) if (total[ci]! > total[best]!) best = ci;
  return { model: new LogisticRegression({ C: Cs[best]! }).fit(x, y, d), C: Cs[best]! };
}
