// Shared test helpers: golden-file loading and numeric comparison.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { packageRoot } from '../src/util/paths.js';

export function goldenPath(name: string): string {
  return join(packageRoot(), 'test', 'golden', name);
}

export function loadGolden<T = any>(name: string): T {
  return JSON.parse(readFileSync(goldenPath(name), 'utf8')) as T;
}

/** Asserts |a - b| <= atol + rtol * |b| elementwise, naming the worst element on failure. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol = 0, what = 'value'): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} != ${expected.length}`);
  let worst = -1, worstErr = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = Number(actual[i]), b = Number(expected[i]);
    const err = Math.abs(a - b) - (atol + rtol * Math.abs(b));
    if (!(err <= 0) && (worst < 0 || err > worstErr || Number.isNaN(err))) { worst = i; worstErr = err; }
  }
  if (worst >= 0) assert.fail(`${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (atol ${atol}, rtol ${rtol})`);
}
