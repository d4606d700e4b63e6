// The detectors' float64 linear algebra (src/detect/linalg.ts): the eigendecomposition reconstructs its
// matrix, and pinvSymmetric satisfies the four Moore-Penrose conditions (which define the pseudo-inverse
// uniquely) on a rank-deficient covariance with a dead (all-zero) feature, as Mahalanobis meets them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose } from './helpers.js';
import { Rng } from '../src/data/rng.js';
import { pinvSymmetric, solveSpd, symmetricEigen } from '../src/detect/linalg.js';

function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) out[i * n + j]! += a[i * n + k]! * b[k * n + j]!;
  return out;
}

/** B B^T / m with B [n, m] seeded normal-ish, feature `dead` zeroed: rank min(m, n - 1). */
function covariance(n: number, m: number, dead: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const b = Float64Array.from({ length: n * m }, (_, i) => (Math.floor(i / m) === dead ? 0 : rng.nextU32() / 2 ** 32 - 0.5));
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < m; k++) c[i * n + j]! += b[i * m + k]! * b[j * m + k]! / m;
  return c;
}

test('symmetricEigen: V diag(lambda) V^T = A, V orthonormal', () => {
  const n = 12, a = covariance(n, 30, -1, 1);
  const { values, vectors } = symmetricEigen(a, n);
  const vd = vectors.map((v, i) => v * values[i % n]!);
  const vt = Float64Array.from({ length: n * n }, (_, i) => vectors[(i % n) * n + Math.floor(i / n)]!);
  assertClose(matmul(vd, vt, n), a, 1e-14, 0, 'reconstruction');
  assertClose(matmul(vt, vectors, n), Float64Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0)), 1e-14, 0, 'V^T V = I');
  assert.throws(() => symmetricEigen([1, 2, 3], 2), /expected 2 x 2 = 4 entries, got 3/);
  assert.throws(() => symmetricEigen([1, NaN, NaN, 1], 2), /entry \(0, 1\) is NaN/);
});

test('pinvSymmetric: the Moore-Penrose pseudo-inverse of a rank-deficient covariance', () => {
  const n = 10, a = covariance(n, 6, 3, 2);            // rank 6 of 10, feature 3 dead
  const p = pinvSymmetric(a, n);
  const scaleA = Math.max(...a.map(Math.abs)), scaleP = Math.max(...p.map(Math.abs));
  assertClose(matmul(matmul(a, p, n), a, n), a, 1e-12 * scaleA, 0, 'A P A = A');
  assertClose(matmul(matmul(p, a, n), p, n), p, 1e-10 * scaleP, 0, 'P A P = P');
  const ap = matmul(a, p, n), pa = matmul(p, a, n);
  const t = (m: Float64Array): Float64Array => Float64Array.from({ length: n * n }, (_, i) => m[(i % n) * n + Math.floor(i / n)]!);
  assertClose(ap, t(ap), 1e-12, 0, 'A P symmetric');
  assertClose(pa, t(pa), 1e-12, 0, 'P A symmetric');
  assertClose(p.subarray(3 * n, 4 * n), new Float64Array(n), 1e-12 * scaleP, 0, 'a dead feature gets no precision (to rounding)');
  // full rank: the ordinary inverse
  const full = covariance(5, 40, -1, 3);
  assertClose(matmul(full, pinvSymmetric(full, 5), 5), Float64Array.from({ length: 25 }, (_, i) => (i % 6 === 0 ? 1 : 0)), 1e-12, 0, 'A A^-1 = I');
});

test('solveSpd solves H x = b and refuses an indefinite H', () => {
  const h = covariance(6, 20, -1, 4), x = Float64Array.from([1, -2, 3, 0.5, 0, 4]);
  const b = Float64Array.from({ length: 6 }, (_, i) => x.reduce((s, v, j) => s + h[i * 6 + j]! * v, 0));
  assertClose(solveSpd(h, b, 6), x, 1e-9, 0, 'solution');
  assert.throws(() => solveSpd([1, 2, 2, 1], [1, 1], 2), /not positive definite/);
});
