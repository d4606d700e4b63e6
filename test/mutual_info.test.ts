// mutual_info_classif / one-vs-rest MI matrix / MIS against scikit-learn 1.2 (scripts/golden/mutual_info.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose, loadGolden } from './helpers.js';
import {
  digamma, mis, miMatrix, miMatrixAsync, mutualInfoClassif, numpySum, prepareFeatures,
} from '../src/metrics/mutual_info.js';
import { RandomState } from '../src/metrics/numpy_random.js';

const G = loadGolden('mutual_info.json');
const R = loadGolden('numpy_random.json');
const ATOL = 1e-9; // the implementation is bit-exact on the golden data; 1e-9 leaves room for libm drift

type B64 = { dtype: string; shape: number[]; b64: string };
function decode(a: B64): Float32Array | Float64Array {
  const buf = Buffer.from(a.b64, 'base64');
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  if (a.dtype === '<f4') return new Float32Array(ab);
  if (a.dtype === '<f8') return new Float64Array(ab);
  throw new Error('unexpected dtype ' + a.dtype);
}

test('digamma reproduces scipy.special.digamma (integers bit for bit)', () => {
  const ints = R.digamma_int;
  (ints.x as number[]).forEach((x, i) => assert.ok(Object.is(digamma(x), ints.y[i]), `psi(${x}) = ${digamma(x)}, SciPy ${ints.y[i]}`));
  const reals = R.digamma_real;
  assertClose((reals.x as number[]).map(digamma), reals.y, 0, 1e-14, 'digamma (non-integers)');
  assert.throws(() => digamma(0), RangeError);
});

test('numpySum follows NumPy pairwise / blocked summation exactly', () => {
  const g = R.sum_seed13;
  const rs = new RandomState(13);
  const x = new Float64Array(g.n);
  for (let i = 0; i < g.n; i++) x[i] = rs.standardNormal() * g.scale;
  for (const [n, expected] of Object.entries(g.prefix_sums as Record<string, number>)) {
    assert.ok(Object.is(numpySum(x, 0, Number(n)), expected), `sum of ${n}: ${numpySum(x, 0, Number(n))} vs ${expected}`);
  }
});

test('prepareFeatures: scaling and noise identical to sklearn internals (float32 input)', () => {
  const p = G.prepared.find((q: any) => q.name === 'f32');
  const X = decode(p.X);
  const [n, k] = p.X.shape;
  const cols = prepareFeatures(X, n, k, p.random_state);
  const want = decode(p.cols); // [K][N]
  assert.equal(want.length, cols.length);
  for (let i = 0; i < cols.length; i++) assert.ok(Object.is(cols[i], want[i]), `value ${i}: ${cols[i]} vs ${want[i]}`);
});

test('prepareFeatures: float64 input over 8192 rows (blocked pairwise std and mean)', () => {
  const p = G.prepared.find((q: any) => q.name === 'f64_gen');
  const { seed, n, k, mul, add } = p.gen;
  const rs = new RandomState(seed);
  const X = new Float64Array(n * k);
  for (let i = 0; i < n * k; i++) X[i] = rs.standardNormal() * mul + add;
  const cols = prepareFeatures(X, n, k, p.random_state);
  for (let j = 0; j < k; j++) {
    const sub = [];
    for (let i = 0; i < n; i += p.every) sub.push(cols[j * n + i]);
    assert.deepEqual(sub, p.cols_subset[j], `column ${j}`);
  }
});

for (const c of G.cases) {
  test(`mutualInfoClassif vs sklearn: ${c.name}${c.note ? ' (' + c.note + ')' : ''}`, () => {
    const X = decode(c.X);
    const [n, k] = c.X.shape;
    const mi = mutualInfoClassif(X, n, k, c.y, { nNeighbors: c.n_neighbors, randomState: c.random_state });
    assertClose(mi, c.mi, ATOL, 0, c.name);
  });
}

test('golden cases really exercise the edge cases they claim', () => {
  const byName = (s: string) => G.cases.find((c: any) => c.name === s);
  const cs = byName('constant_singleton_small');
  const Xc = decode(cs.X);
  for (let i = 0; i < cs.y.length; i++) assert.equal(Xc[i * 3 + 1], 3.25, 'feature 1 is constant');
  // sklearn does not give 0 here: the classes of 2..7 samples go through brute-force neighbours, whose
  // x^2 - 2xy + y^2 expansion cannot resolve the 1e-10 noise around 3.25, and the estimate is reproduced
  assert.ok(cs.mi[1] > 0.1);
  const counts = new Map<number, number>();
  for (const v of cs.y) counts.set(v, (counts.get(v) ?? 0) + 1);
  assert.equal(counts.get(9), 1);
  assert.equal(counts.get(6), 5);
  const relu = decode(byName('relu_ties_f32').X);
  let zeros = 0;
  for (const v of relu) if (v === 0) zeros++;
  assert.ok(zeros > relu.length / 3, 'many exact zeros');
  assert.ok(G.cases.some((c: any) => c.n_neighbors === 1) && G.cases.some((c: any) => c.n_neighbors === 5));
  assert.ok(G.cases.every((c: any) => c.mi.some((v: number) => v > 0.01)), 'every case has some signal');
});

test('miMatrix one-vs-rest over 10 classes and MIS', () => {
  const o = G.ovr;
  const F = decode(o.F);
  const [n, k] = o.F.shape;
  const M = miMatrix(F, n, k, o.y, o.C);
  assertClose(M, o.M, ATOL, 0, 'M');
  assertClose([mis(M, o.C, k)], [o.mis], ATOL, 0, 'MIS');
  // per-class rows are mutual_info_classif on the binary target
  const row3 = mutualInfoClassif(F, n, k, (o.y as number[]).map((v) => (v === 3 ? 1 : 0)));
  assertClose(row3, M.subarray(3 * k, 4 * k), 0, 0, 'row 3');
});

test('miMatrix options: balanced negatives, column normalization, both with another seed', () => {
  const o = G.ovr;
  const F = decode(o.F);
  const [n, k] = o.F.shape;
  const Mb = miMatrix(F, n, k, o.y, o.C, { balanceNegatives: true });
  assertClose(Mb, o.M_balanced, ATOL, 0, 'balanced');
  assertClose([mis(Mb, o.C, k)], [o.mis_balanced], ATOL, 0, 'MIS balanced');
  const Mn = miMatrix(F, n, k, o.y, o.C, { normalizeColumns: true });
  assertClose(Mn, o.M_normalized, ATOL, 0, 'normalized');
  assertClose([mis(Mn, o.C, k)], [o.mis_normalized], ATOL, 0, 'MIS normalized');
  const Mbn = miMatrix(F, n, k, o.y, o.C, { balanceNegatives: true, normalizeColumns: true, randomState: 3 });
  assertClose(Mbn, o.M_balanced_normalized_seed3, ATOL, 0, 'balanced + normalized, seed 3');
  assertClose([mis(Mbn, o.C, k)], [o.mis_balanced_normalized_seed3], ATOL, 0, 'MIS balanced + normalized');
  for (let j = 0; j < k; j++) {
    let s = 0;
    for (let c = 0; c < o.C; c++) s += Mn[c * k + j];
    assert.ok(Math.abs(s - 1) < 1e-12 || s === 0, `column ${j} sums to ${s}`);
  }
});

test('miMatrixAsync with worker threads gives the same matrix', async () => {
  const o = G.ovr;
  const F = decode(o.F);
  const [n, k] = o.F.shape;
  const M = await miMatrixAsync(F, n, k, o.y, o.C, { workers: 2 });
  assert.deepEqual(Array.from(M), Array.from(miMatrix(F, n, k, o.y, o.C)));
});

test('mis is the mean over features of the best class', () => {
  // M = [[0.1, 0.5, 0], [0.3, 0.2, 0]]
  assert.equal(mis([0.1, 0.5, 0, 0.3, 0.2, 0], 2, 3), (0.3 + 0.5 + 0) / 3);
  assert.throws(() => mis([1, 2, 3], 2, 2), RangeError);
});

test('input validation', () => {
  const X = new Float64Array([1, 2, 3, 4, 5, 6]);
  assert.throws(() => mutualInfoClassif(X, 4, 2, [0, 1, 0, 1]), RangeError);
  assert.throws(() => mutualInfoClassif(X, 3, 2, [0, 1]), RangeError);
  assert.throws(() => mutualInfoClassif(new Float64Array([1, NaN, 3, 4]), 2, 2, [0, 1]), /NaN/);
  assert.throws(() => miMatrix(X, 3, 2, [0, 1, 2], 2), /label 2/);
  assert.throws(() => mutualInfoClassif(X, 3, 2, [0, 1, 0], { nNeighbors: 0 }), RangeError);
});
