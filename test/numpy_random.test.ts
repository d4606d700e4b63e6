// NumPy legacy RandomState reproduction, checked bit for bit against NumPy 1.24 (scripts/golden/mutual_info.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadGolden } from './helpers.js';
import { RandomState, glibcLog, fma } from '../src/metrics/numpy_random.js';

const G = loadGolden('numpy_random.json');

/** Bitwise equality (Object.is), naming the first differing element. */
function assertSameBits(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) assert.fail(`${what}: element ${i} is ${actual[i]}, NumPy gives ${expected[i]}`);
  }
}

test('MT19937 seeded like RandomState(0): raw 32-bit outputs', () => {
  const rs = new RandomState(0);
  const raw = Array.from({ length: 16 }, () => rs.nextUint32());
  assertSameBits(raw, G.raw_uint32_seed0, 'raw uint32');
  assert.equal(raw[0], 2357136044); // the well-known first output of init_genrand(0)
});

test('standard_normal: first 1000 values of seeds 0 and 42', () => {
  for (const seed of [0, 42]) {
    const z = new RandomState(seed).standardNormalArray(1000);
    assertSameBits(z, G[`standard_normal_seed${seed}`], `seed ${seed}`);
  }
});

test('random_sample with the largest seed', () => {
  assertSameBits(new RandomState(0xffffffff).randomSampleArray(200), G.random_sample_seed4294967295, 'random_sample');
});

test('the cached second gauss carries across scalar and array draws', () => {
  const rs = new RandomState(7);
  const got = [rs.standardNormal(), ...rs.standardNormalArray(5), rs.standardNormal(), ...rs.randomSampleArray(3), ...rs.standardNormalArray(2)];
  assertSameBits(got, G.mixed_seed7, 'mixed stream');
});

test('normal(loc, scale, size=(50, 4)) in row-major order', () => {
  const g = G.normal_seed123;
  const v = new RandomState(123).normal(g.loc, g.scale, g.shape[0] * g.shape[1]);
  assertSameBits(v, g.values, 'normal');
});

test('permutation and choice without replacement', () => {
  assert.deepEqual(Array.from(new RandomState(3).permutation(20)), G.permutation_seed3_n20);
  assert.deepEqual(Array.from(new RandomState(5).choiceWithoutReplacement(50, 10)), G.choice_seed5_n50_k10);
  assert.deepEqual(Array.from(new RandomState(5).choiceWithoutReplacement(300, 40)), G.choice_seed5_n300_k40);
  assert.throws(() => new RandomState(5).choiceWithoutReplacement(3, 4), /larger sample/);
});

test('glibcLog matches the C library log bit for bit (both code paths, subnormals, extremes)', () => {
  const xs: number[] = G.log.x;
  assertSameBits(xs.map(glibcLog), G.log.y, 'log');
  assert.equal(glibcLog(0), -Infinity);
  assert.ok(Number.isNaN(glibcLog(-1)));
  assert.equal(glibcLog(Infinity), Infinity);
});

test('software fma is correctly rounded (matches the C fma)', () => {
  const { a, b, c, y } = G.fma;
  const got = (a as number[]).map((ai, i) => fma(ai, b[i], c[i]));
  assertSameBits(got, y, 'fma');
  // a case where a * b + c rounded twice differs from the fused result
  const e = 2 ** -30;
  assert.equal(fma(1 + e, 1 - e, -1), -(2 ** -60));
  assert.equal((1 + e) * (1 - e) - 1, 0);
});

test('seeds outside [0, 2^32) are refused', () => {
  assert.throws(() => new RandomState(-1), RangeError);
  assert.throws(() => new RandomState(2 ** 32), RangeError);
  assert.throws(() => new RandomState(1.5), RangeError);
});
