// NumPy- and SciPy-compatible numerics of the MI estimator (see ../mutual_info.ts): SciPy's cephes
// digamma and NumPy's pairwise summation order, replayed bit for bit.
import { glibcLog } from '../numpy_random.js';

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
export function psiInts(n: number): Float64Array {
  if (psiTable.length > n) return psiTable;
  const t = new Float64Array(Math.max(n + 1, 2 * psiTable.length));
  t[0] = NaN;
  for (let i = 1; i < t.length; i++) t[i] = digamma(i);
  psiTable = t;
  return t;
}

// ------------------------------------------------------------------------------------------------------
// NumPy's summation order
// Two variants as NumPy sums in the array's dtype: float64 (numpySum) and float32 features' scaling (numpySumF32, fround).

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
export function numpySumF32(a: Float32Array, n: number): number {
  let s = 0;
  for (let b = 0; b < n; b += 8192) s = fr(s + pairwiseF32(a, b, Math.min(8192, n - b)));
  return s;
}
