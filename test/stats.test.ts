// Seed statistics against SciPy/NumPy (scripts/golden/stats.py): t quantiles, mean, sample std and the
// 95 % t interval; the Pareto front; bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadGolden, assertClose } from './helpers.js';
import { paretoFront, summarize, tCdf, tQuantile } from '../src/metrics/stats.js';

const golden = loadGolden('stats.json');

test('tQuantile matches scipy.stats.t.ppf for df 1..30, 40, 60, 120, 1000 and non-integer df', () => {
  const got = golden.t_ppf.map((g: any) => tQuantile(g.p, g.df));
  // rtol 1e-8: SciPy 1.10 itself is up to 5e-9 (relative) off mpmath's 30-digit root and the closed forms below.
  assertClose(got, golden.t_ppf.map((g: any) => g.ppf), 1e-9, 1e-8, 't.ppf');
  // Measured: worst 1.4e-12 relative, at df 1000 (lgamma cancellation in the beta's prefactor).
  assertClose(got, golden.t_ppf.map((g: any) => g.exact), 1e-13, 5e-12, 'mpmath quantile');
  // Closed forms: df 1 is Cauchy, tan(pi (p - 1/2)); df 2 is (2p - 1) / sqrt(2 p (1 - p)).
  for (const p of golden.probabilities) {
    assert.ok(Math.abs(tQuantile(p, 1) / Math.tan(Math.PI * (p - 0.5)) - 1) < 1e-12 || p === 0.5, `df 1, p ${p}`);
    assert.ok(Math.abs(tQuantile(p, 2) - (2 * p - 1) / Math.sqrt(2 * p * (1 - p))) < 1e-11, `df 2, p ${p}`);
  }
  const at = (df: number, p: number) => golden.t_ppf.find((g: any) => g.df === df && g.p === p).ppf;
  assert.ok(Math.abs(at(1, 0.975) - 12.706204736) < 1e-8 && Math.abs(at(2, 0.975) - 4.302652730) < 1e-8, 'the golden holds the textbook values');
  for (const g of golden.t_ppf) assert.ok(Math.abs(tCdf(tQuantile(g.p, g.df), g.df) - g.p) < 1e-13, `tCdf(tQuantile(${g.p}, ${g.df})) != ${g.p}`);
});

test('summarize: numpy mean, std (ddof 1) and scipy.stats.t.interval(0.95) for n = 2..10', () => {
  for (const s of golden.samples) {
    const r = summarize(s.values);
    assert.equal(r.n, s.values.length);
    assertClose([r.mean, r.std!, ...r.ci!], [s.mean, s.std, ...s.ci95], 1e-12, 1e-10, `n = ${s.values.length}`);
  }
  assert.deepEqual(summarize([0.5]), { n: 1, mean: 0.5, std: null, ci: null });
  const wide = summarize([1, 2, 3], 0.99), narrow = summarize([1, 2, 3], 0.9);
  assert.ok(wide.ci![0] < narrow.ci![0] && wide.ci![1] > narrow.ci![1]);
});

test('bad input is named', () => {
  assert.throws(() => summarize([]), /no values/);
  assert.throws(() => summarize([1, NaN]), /finite numbers, got NaN/);
  assert.throws(() => summarize([1, 2], 1), /level must be in \(0, 1\)/);
  assert.throws(() => tQuantile(1, 3), /p must be in \(0, 1\), got 1/);
  assert.throws(() => tQuantile(0.9, 0), /degrees of freedom must be a positive number, got 0/);
});

test('paretoFront keeps the points nothing beats on both axes, sorted by x', () => {
  const pts = [{ x: 0.1, y: 0.9 }, { x: 0.2, y: 0.85 }, { x: 0.15, y: 0.8 }, { x: 0.3, y: 0.7 }, { x: 0.3, y: 0.6 }, { x: NaN, y: 1 }, { x: 0.2, y: 0.85 }];
  assert.deepEqual(paretoFront(pts), [0, 1, 6, 3]);
  assert.deepEqual(paretoFront([]), []);
});
