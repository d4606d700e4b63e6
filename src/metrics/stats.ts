// Statistics over seeds: mean, sample standard deviation and Student-t confidence intervals, and the
// Pareto front of (accuracy, MIS) points. Pure numbers: no torch, no files.
//
// The t quantile inverts the t CDF, F(t) = 1 - I_x(df/2, 1/2) / 2 for t > 0 with x = df / (df + t^2)
// (Abramowitz & Stegun 26.7.1), the regularized incomplete beta I by its continued fraction
// (Numerical Recipes 6.4): bisection on x, then Newton steps on t (on the upper tail) with the t density. Any df > 0.

const LANCZOS = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];

/** ln Gamma(x) for x > 0 (Lanczos, g = 7; relative error about 1e-15). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  x -= 1;
  let a = LANCZOS[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta (modified Lentz). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1, d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 1000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d; if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c; if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d; h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d; if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c; if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-16) break;
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b), a, b > 0, x in [0, 1]. */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x));
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(a, b, x)) / a : 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

function checkDf(df: number): void {
  if (!(df > 0) || !Number.isFinite(df)) throw new RangeError(`Student t: degrees of freedom must be a positive number, got ${df}`);
}

/** Student t cumulative distribution function. */
export function tCdf(t: number, df: number): number {
  checkDf(df);
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t > 0 ? 1 - tail : tail;
}

function tDensity(t: number, df: number): number {
  return Math.exp(logGamma((df + 1) / 2) - logGamma(df / 2) - 0.5 * Math.log(df * Math.PI) - ((df + 1) / 2) * Math.log1p((t * t) / df));
}

/** Student t quantile (inverse CDF), like scipy.stats.t.ppf(p, df). */
export function tQuantile(p: number, df: number): number {
  checkDf(df);
  if (!(p > 0 && p < 1)) throw new RangeError(`Student t quantile: p must be in (0, 1), got ${p}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -tQuantile(1 - p, df);
  // I_x(df/2, 1/2) = 2 (1 - p) with x = df / (df + t^2); I grows with x, so bisect on x.
  const target = 2 * (1 - p);
  let lo = 0, hi = 1;
  for (let i = 0; i < 200 && hi - lo > 1e-300; i++) {
    const mid = (lo + hi) / 2;
    if (incompleteBeta(mid, df / 2, 0.5) < target) lo = mid; else hi = mid;
  }
  const x = (lo + hi) / 2;
  let t = Math.sqrt((df * (1 - x)) / x);
  for (let i = 0; i < 3; i++) {
    const f = tDensity(t, df);
    if (!(f > 0)) break;
    // On the upper tail, not the CDF: 1 - p keeps its digits where the CDF rounds to 1.
    const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
    const next = t + (tail - (1 - p)) / f;
    if (!Number.isFinite(next) || next <= 0) break;
    t = next;
  }
  return t;
}

export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation (n - 1 in the denominator); null for one value. */
  std: number | null;
  /** The two-sided confidence interval of the mean (Student t, n - 1 df); null for one value. */
  ci: [number, number] | null;
}

/** Mean, sample std and the `level` (default 95 %) t interval of the mean of finite `values`. */
export function summarize(values: readonly number[], level = 0.95): Summary {
  if (!(level > 0 && level < 1)) throw new RangeError(`summarize: level must be in (0, 1), got ${level}`);
  const n = values.length;
  if (n === 0) throw new RangeError('summarize: no values');
  for (const v of values) if (!Number.isFinite(v)) throw new RangeError(`summarize: values must be finite numbers, got ${v}`);
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n === 1) return { n, mean, std: null, ci: null };
  const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  const half = (tQuantile(1 - (1 - level) / 2, n - 1) * std) / Math.sqrt(n);
  return { n, mean, std, ci: [mean - half, mean + half] };
}

/** Indices of the points no other point beats on both coordinates (ties kept), sorted by x. */
export function paretoFront(points: readonly { x: number; y: number }[]): number[] {
  const idx = points.map((_, i) => i).filter((i) => Number.isFinite(points[i]!.x) && Number.isFinite(points[i]!.y));
  const dominated = (i: number) => idx.some((j) => {
    const a = points[j]!, b = points[i]!;
    return a.x >= b.x && a.y >= b.y && (a.x > b.x || a.y > b.y);
  });
  return idx.filter((i) => !dominated(i)).sort((i, j) => points[i]!.x - points[j]!.x);
}
