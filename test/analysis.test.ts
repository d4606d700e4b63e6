import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadGolden, assertClose } from './helpers.js';
import {
  gateAssignment, miAssignment, assignmentAgreement, relatedFilterCounts, specificity, histogram,
  correlationMatrix, orderByAssignment, permuteMatrix, gateDensity, flattenGate,
} from '../src/metrics/analysis.js';

type Num = number | 'nan';
interface Golden {
  meta: { N: number; K: number; C: number };
  F: number[]; y: number[]; M: number[]; G: number[];
  gate_assign: number[]; mi_assign: number[]; agreement: number; counts_gate: number[];
  specificity: number[]; hist_values: Num[]; hist_edges: number[]; hist_counts: number[];
  hist7_edges: number[]; hist7_counts: number[];
  corr: number[]; score: number[]; order: number[]; order_noscore: number[];
  rows_order: number[]; perm: number[]; density: number;
}

const g = loadGolden<Golden>('analysis.json');
const { N, K, C } = g.meta;
const num = (v: Num): number => (v === 'nan' ? NaN : v);
const F = Float32Array.from(g.F);
const M = Float64Array.from(g.M);
const G = Float64Array.from(g.G);

test('gateAssignment matches np.argmax (ties -> lowest class), flat and nested', () => {
  assert.deepEqual(Array.from(gateAssignment(G, K, C)), g.gate_assign);
  const rows = Array.from({ length: K }, (_, k) => Array.from(G.subarray(k * C, (k + 1) * C)));
  assert.deepEqual(Array.from(gateAssignment(rows, K, C)), g.gate_assign);
  assert.deepEqual(Array.from(gateAssignment([[0.5, 1, 1], [1, 1, 1], [NaN, 0.2, NaN], [NaN, NaN, NaN]], 4, 3)), [1, 0, 1, 0]);
  assert.throws(() => gateAssignment(G, K, C + 1), RangeError);
  assert.throws(() => gateAssignment([[1, 2], [3]], 2, 2), RangeError);
});

test('miAssignment, agreement and related filter counts', () => {
  const mi = miAssignment(M, C, K);
  assert.deepEqual(Array.from(mi), g.mi_assign);
  assert.equal(assignmentAgreement(gateAssignment(G, K, C), mi), g.agreement);
  assert.deepEqual(relatedFilterCounts(gateAssignment(G, K, C), C), g.counts_gate);
  assert.deepEqual(relatedFilterCounts(Int32Array.from([2, 2, 0]), 4), [1, 0, 2, 0]);
  assert.equal(assignmentAgreement([0, 1, 2, 3], [0, 1, 0, 0]), 0.5);
  assert.ok(Number.isNaN(assignmentAgreement([], [])));
  assert.throws(() => assignmentAgreement([0], [0, 1]), RangeError);
  assert.throws(() => relatedFilterCounts([0, 4], 4), RangeError);
  // M is [C][K]: class 1 wins filter 0, tie on filter 1 -> class 0
  assert.deepEqual(Array.from(miAssignment([0.1, 0.5, 0.3, 0.5], 2, 2)), [1, 0]);
});

test('specificity: golden, bounds and 0/0 -> 1/C', () => {
  const s = specificity(M, C, K);
  assertClose(s, g.specificity, 1e-15, 1e-12, 'specificity');
  for (const v of s) assert.ok(v >= 1 / C - 1e-15 && v <= 1 + 1e-15);
  assertClose(specificity([1, 0, 0, 0, 0, 0, 0, 0, 3], 3, 3), [1, 1 / 3, 1], 0, 0, 'hand');
  assertClose(specificity([2, 2], 2, 1), [0.5], 0, 0, 'even');
  assertClose(specificity([1, 0, 3, 0], 2, 2), [0.75, 0.5], 0, 0, 'mixed');
  assertClose(specificity([-1, 2], 2, 1), [1], 0, 0, 'negative clamped');
});

test('histogram matches numpy.histogram with range', () => {
  const vals = g.hist_values.map(num);
  const h = histogram(vals, 10);
  assertClose(h.edges, g.hist_edges, 0, 0, 'edges');
  assert.deepEqual(h.counts, g.hist_counts);
  const h7 = histogram(g.specificity, 7, 0.25, 1);
  assertClose(h7.edges, g.hist7_edges, 0, 0, 'edges7');
  assert.deepEqual(h7.counts, g.hist7_counts);
  // boundaries: half-open bins, last bin closed
  assert.deepEqual(histogram([0, 0.5, 1, 1.0000001, -0.1, NaN], 2).counts, [1, 2]);
  assert.throws(() => histogram([1], 0), RangeError);
  assert.throws(() => histogram([1], 3, 1, 1), RangeError);
});

test('correlationMatrix matches np.corrcoef; constant feature -> 0 / 1', () => {
  const R = correlationMatrix(F, N, K);
  assertClose(R, g.corr, 1e-12, 1e-10, 'corr');
  assert.equal(R[0 * K + 3], -1); // clipped exact anti-correlation
  for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) assert.equal(R[i * K + j], R[j * K + i]);
  // hand case: x, 2x+1, constant, -x  over 4 samples
  const x = [1, 2, 3, 5];
  const F2 = new Float32Array(16);
  x.forEach((v, n) => { F2[n * 4] = v; F2[n * 4 + 1] = 2 * v + 1; F2[n * 4 + 2] = 0.1; F2[n * 4 + 3] = -v; });
  const R2 = correlationMatrix(F2, 4, 4);
  assertClose(R2, [1, 1, 0, -1, 1, 1, 0, -1, 0, 0, 1, 0, -1, -1, 0, 1], 1e-12, 0, 'hand corr');
  // a single sample: everything is constant
  assert.deepEqual(Array.from(correlationMatrix([1, 2], 1, 2)), [1, 0, 0, 1]);
});

test('orderByAssignment: class ascending, score descending, stable', () => {
  const mi = miAssignment(M, C, K);
  assert.deepEqual(Array.from(orderByAssignment(mi, Float64Array.from(g.score))), g.order);
  assert.deepEqual(Array.from(orderByAssignment(gateAssignment(G, K, C))), g.order_noscore);
  assert.deepEqual(Array.from(orderByAssignment([1, 0, 1, 0, 1], [0.2, NaN, 0.9, 0.5, 0.2])), [3, 1, 2, 0, 4]);
  assert.throws(() => orderByAssignment([0, 1], [1]), RangeError);
});

test('permuteMatrix matches numpy fancy indexing', () => {
  const P = permuteMatrix(M, C, K, g.rows_order, g.order);
  assertClose(P, g.perm, 0, 0, 'perm');
  assert.deepEqual(Array.from(permuteMatrix([1, 2, 3, 4, 5, 6], 2, 3)), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Array.from(permuteMatrix([1, 2, 3, 4, 5, 6], 2, 3, [1, 0], [2])), [6, 3]);
  assert.throws(() => permuteMatrix([1, 2, 3, 4], 2, 2, [2]), RangeError);
  assert.throws(() => permuteMatrix([1, 2, 3], 2, 2), RangeError);
});

test('gateDensity = sum|G| / (K*C)', () => {
  assertClose([gateDensity(G)], [g.density], 1e-15, 1e-13, 'density');
  assert.equal(gateDensity([[1, 0], [0.5, -0.5]]), 0.5);
  assert.equal(gateDensity(new Float64Array([0.5, 0.5, 0.5])), 0.5);
  assert.ok(Number.isNaN(gateDensity([])));
  assert.deepEqual(Array.from(flattenGate([[1, 2], [3, 4]], 2, 2)), [1, 2, 3, 4]);
});

test('the gate object and the analysis assign filters by one rule (ties to the lowest class, NaN ignored)', async () => {
  const torch = await import('../src/torch/index.js');
  const { ClassSpecificGate } = await import('../src/csg/gate.js');
  const gate = new ClassSpecificGate(3, 3);
  const G = [NaN, 0.2, 0.9, /**/ 1, 1, 0.5, /**/ 0.1, NaN, 0.3];
  torch.noGrad(() => gate.weight.copy_(torch.tensor(G).reshape([3, 3])));
  assert.deepEqual(gate.assignment(), [2, 0, 2]);
  assert.deepEqual(gate.assignment(), Array.from(gateAssignment(G, 3, 3)));
});
