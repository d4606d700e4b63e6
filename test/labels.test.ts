// Labels read from files (csgnet mis --labels): exact int64, no wrapping, bounded class count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy, type NpyData } from '../src/io/npy.js';
import { validateLabels, MAX_CLASSES } from '../src/metrics/labels.js';
import { runCli } from './support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-labels-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const arr = (data: NpyData, dtype = '<i8') => ({ data, shape: [data.length], dtype });
const i64 = (...v: bigint[]) => arr(BigInt64Array.from(v));

test('validateLabels: int64 read exactly, negatives and out-of-range labels named with their index', () => {
  const ok = validateLabels(i64(0n, 2n, 1n, 2n), 'L.npy', 4);
  assert.deepEqual([Array.from(ok.labels), ok.numClasses], [[0, 2, 1, 2], 3]);
  const bad = (a: ReturnType<typeof arr>, n: number, re: RegExp) =>
    assert.throws(() => validateLabels(a, '/x/L.npy', n, '--labels'), (e: Error) => e instanceof Error && e.message.startsWith('--labels /x/L.npy: ') && re.test(e.message), re.source);
  // 2^40 wrapped to class 0 and 2^31 to a negative label through Int32Array.
  bad(i64(0n, 1n, 2n ** 40n, 1n), 4, /label 1099511627776 at index 2 is out of range \(at most 65536 classes/);
  bad(i64(0n, 2n ** 31n, 1n), 3, /label 2147483648 at index 1 is out of range/);
  bad(i64(0n, -(2n ** 63n)), 2, /label -9223372036854775808 at index 1 is negative/);
  bad(arr(Int32Array.from([0, 1, 100000000])), 3, /label 100000000 at index 2 is out of range \(at most 65536 classes/);
  bad(arr(Int16Array.from([0, 1, -3]), '<i2'), 3, /label -3 at index 2 is negative/);
  // More classes than samples: 7 cannot be a class of 4 samples with 0..6 all present.
  bad(i64(0n, 7n, 1n, 1n), 4, /label 7 at index 1 is out of range \(a label must be < the number of samples, 4/);
  bad(arr(Float64Array.from([0, 1]), '<f8'), 2, /labels must be integers, got <f8/);
  bad(i64(0n, 1n), 3, /expected 3 labels \(shape \[3\]\), got shape \[2\]/);
  bad(i64(), 0, /no labels/);
  // The largest accepted label: MAX_CLASSES - 1 with enough samples.
  const big = new BigInt64Array(MAX_CLASSES + 5);
  big[3] = BigInt(MAX_CLASSES - 1);
  assert.equal(validateLabels(arr(big), 'L.npy', big.length).numClasses, MAX_CLASSES);
  big[3] = BigInt(MAX_CLASSES);
  bad(arr(big), big.length, /label 65536 at index 3 is out of range \(at most 65536 classes are supported\)/);
  assert.equal(validateLabels(arr(Uint8Array.from([1, 0, 1]), '|b1'), 'B.npy', 3).numClasses, 2);
});

test('csgnet mis refuses huge, wrapping and negative labels at once, naming --labels, the file and the index', () => {
  const n = 40;
  const f = join(tmp, 'f.npy'), l = join(tmp, 'l.npy');
  const feats = new Float32Array(n * 2);
  for (let i = 0; i < feats.length; i++) feats[i] = Math.sin(i * 1.7);
  writeNpy(f, feats, [n, 2]);
  const run = (labels: bigint[]) => {
    writeNpy(l, BigInt64Array.from(labels), [n]);
    // The timeout only keeps a regression from hanging the suite (a label of 1e8 used to allocate for minutes).
    const r = runCli(['mis', '--features', f, '--labels', l], { timeout: 120_000 });
    return { status: r.status, err: r.stderr };
  };
  const base = Array.from({ length: n }, (_, i) => BigInt(i % 3));
  const withAt = (i: number, v: bigint) => base.map((x, j) => (j === i ? v : x));
  for (const [v, re] of [[2n ** 40n, /label 1099511627776 at index 5 is out of range/], [100_000_000n, /label 100000000 at index 5 is out of range/],
    [2n ** 31n, /label 2147483648 at index 5 is out of range/], [-1n, /label -1 at index 5 is negative/]] as const) {
    const r = run(withAt(5, v));
    assert.equal(r.status, 1, `label ${v}: ${r.err}`);
    assert.ok(r.err.includes(`--labels ${l}`), r.err);
    assert.match(r.err, re);
  }
  const good = run(base);
  assert.equal(good.status, 0, good.err);
});
