// .npy reader / writer: files written by numpy.save (scripts/golden/mutual_info.py), round trips, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goldenPath } from './helpers.js';
import { readNpy, writeNpy, type NpyData } from '../src/io/npy.js';

const npy = (name: string) => goldenPath(join('npy', name));

test('reads arrays written by numpy.save', () => {
  const f4 = readNpy(npy('f4_2x3.npy'));
  assert.equal(f4.dtype, '<f4');
  assert.deepEqual(f4.shape, [2, 3]);
  assert.ok(f4.data instanceof Float32Array);
  assert.deepEqual(Array.from(f4.data), [1.5, -2.25, Math.fround(3e-8), Infinity, 0, -0]);
  assert.ok(Object.is(f4.data[5], -0));

  const f8 = readNpy(npy('f8_5.npy'));
  assert.deepEqual([f8.dtype, f8.shape], ['<f8', [5]]);
  assert.deepEqual(Array.from(f8.data as Float64Array), [Math.PI, -1e300, 5e-324, 1, 2 / 3]);

  const i8 = readNpy(npy('i8_2x2.npy'));
  assert.ok(i8.data instanceof BigInt64Array);
  assert.deepEqual(Array.from(i8.data as BigInt64Array), [2n ** 62n, -3n, 0n, -(2n ** 63n)]);

  const i4 = readNpy(npy('i4_4.npy'));
  assert.deepEqual([i4.dtype, Array.from(i4.data as Int32Array)], ['<i4', [1, -2, 2 ** 31 - 1, -(2 ** 31)]]);

  const u1 = readNpy(npy('u1_3x1x2.npy'));
  assert.deepEqual([u1.dtype, u1.shape, Array.from(u1.data as Uint8Array)], ['|u1', [3, 1, 2], [0, 50, 100, 150, 200, 250]]);

  const b1 = readNpy(npy('b1_4.npy'));
  assert.deepEqual([b1.dtype, Array.from(b1.data as Uint8Array)], ['|b1', [1, 0, 0, 1]]);

  const i2 = readNpy(npy('i2_3.npy'));
  assert.deepEqual([i2.dtype, Array.from(i2.data as Int16Array)], ['<i2', [-32768, 0, 32767]]);

  const scalar = readNpy(npy('f8_scalar.npy'));
  assert.deepEqual([scalar.shape, Array.from(scalar.data as Float64Array)], [[], [-7.5]]);

  const empty = readNpy(npy('f4_0x3.npy'));
  assert.deepEqual([empty.shape, empty.data.length], [[0, 3], 0]);
});

test('reads format versions 2.0 and 3.0', () => {
  const v2 = readNpy(npy('f4_2x2_v2.npy'));
  assert.equal(readFileSync(npy('f4_2x2_v2.npy'))[6], 2);
  assert.deepEqual([v2.shape, Array.from(v2.data as Float32Array)], [[2, 2], [1, 2, 3, 4]]);
  const v3 = readNpy(npy('i4_3_v3.npy'));
  assert.equal(readFileSync(npy('i4_3_v3.npy'))[6], 3);
  assert.deepEqual([v3.shape, Array.from(v3.data as Int32Array)], [[3], [7, 8, 9]]);
});

test('writeNpy produces the same bytes as numpy.save and round-trips every dtype', () => {
  const dir = mkdtempSync(join(tmpdir(), 'csgnet-npy-'));
  try {
    const p = join(dir, 'a.npy');
    writeNpy(p, new Float32Array([1.5, -2.25, 3e-8, Infinity, 0, -0]), [2, 3]);
    assert.deepEqual(readFileSync(p), readFileSync(npy('f4_2x3.npy')), 'identical to numpy.save');
    writeNpy(p, new Uint8Array([1, 0, 0, 1]), [4], { dtype: '|b1' });
    assert.deepEqual(readFileSync(p), readFileSync(npy('b1_4.npy')));

    const cases: [NpyData, number[]][] = [
      [Float64Array.from({ length: 24 }, (_, i) => i / 7 - 1), [2, 3, 4]],
      [new BigInt64Array([1n, -(2n ** 63n), 2n ** 63n - 1n]), [3]],
      [new Int32Array([5, -6]), [1, 2]],
      [new Int16Array([-1, 2, 3, 4]), [4, 1]],
      [new Uint8Array([0, 255, 7]), [3]],
      [new Float32Array([42]), []],
      [new Float32Array(0), [0, 5]],
      [new Float64Array(new ArrayBuffer(40), 8, 3).fill(0.25), [3]], // a view with an offset
    ];
    for (const [data, shape] of cases) {
      writeNpy(p, data, shape);
      const back = readNpy(p);
      assert.deepEqual(back.shape, shape);
      assert.equal(back.data.constructor, data.constructor);
      assert.deepEqual(Array.from(back.data as ArrayLike<number | bigint>), Array.from(data as ArrayLike<number | bigint>));
      assert.equal(readFileSync(p).indexOf('\n') % 64, 63, 'header padded to 64 bytes');
    }
    assert.deepEqual(readdirSync(dir), ['a.npy'], 'no temporary file left behind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeNpy refuses inconsistent input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'csgnet-npy-'));
  try {
    const p = join(dir, 'x.npy');
    assert.throws(() => writeNpy(p, new Float32Array(5), [2, 3]), /shape \(2, 3\) has 6 elements, data has 5/);
    assert.throws(() => writeNpy(p, new Uint8Array([2]), [1], { dtype: '|b1' }), /boolean/);
    assert.throws(() => writeNpy(p, new Float32Array(1), [1], { dtype: '|b1' }), TypeError);
    assert.throws(() => writeNpy(join(dir, 'missing', 'x.npy'), new Float32Array(1), [1]), /ENOENT/);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('reading errors name the file and the problem', () => {
  const dir = mkdtempSync(join(tmpdir(), 'csgnet-npy-'));
  try {
    const missing = join(dir, 'nope.npy');
    assert.throws(() => readNpy(missing), (e: Error) => e.message.includes(missing) && /no such file/.test(e.message));
    const bad = join(dir, 'bad.npy');
    writeFileSync(bad, 'PK\x03\x04 this is a zip, not an npy file');
    assert.throws(() => readNpy(bad), (e: Error) => e.message.includes(bad) && /bad magic/.test(e.message));
    writeFileSync(bad, Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 200, 0, 0x7b]));
    assert.throws(() => readNpy(bad), /truncated header/);
    const expect = (name: string, re: RegExp) =>
      assert.throws(() => readNpy(npy(name)), (e: Error) => e.message.includes(name) && re.test(e.message), name);
    expect('bad_truncated.npy', /truncated data: shape \(2, 3\) of <f4 needs 24 bytes, file has 19/);
    expect('bad_complex.npy', /unsupported dtype '<c16'/);
    expect('bad_bigendian.npy', /big-endian dtype '>f4'/);
    expect('bad_fortran.npy', /Fortran-ordered/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hostile headers: non-decimal shape entries, huge headers, trailing data are refused with the file named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'csgnet-npy-'));
  try {
    const p = join(dir, 'h.npy');
    /** A version-1 file with the given header text (padded to `pad` bytes) and data bytes. */
    const make = (dict: string, data: Buffer, pad = 0) => {
      let h = dict + ' '.repeat(Math.max(0, pad - dict.length - 1)) + '\n';
      const pre = Buffer.alloc(10);
      Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(pre);
      pre.writeUInt16LE(h.length, 8);
      writeFileSync(p, Buffer.concat([pre, Buffer.from(h, 'latin1'), data]));
    };
    const has = (re: RegExp) => (e: Error) => e instanceof Error && e.message.includes(p) && re.test(e.message);
    make("{'descr': '<f4', 'fortran_order': False, 'shape': (0x2,), }", Buffer.alloc(8));
    assert.throws(() => readNpy(p), has(/bad shape entry '0x2'/));
    make("{'descr': '<f4', 'fortran_order': False, 'shape': (1e1,), }", Buffer.alloc(40));
    assert.throws(() => readNpy(p), has(/bad shape entry '1e1'/));
    make("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", Buffer.alloc(8), 20000);
    assert.throws(() => readNpy(p), has(/header length 20000 is larger than the 10000-byte limit/));
    make("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", Buffer.alloc(9));
    assert.throws(() => readNpy(p), has(/1 bytes of trailing data after the 8 bytes that shape \(2\) of <f4 needs/));
    // A version-2 header length of 4 GiB - 1.
    const v2 = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0, 0xff, 0xff, 0xff, 0xff, 0x7b]);
    writeFileSync(p, v2);
    assert.throws(() => readNpy(p), has(/header length 4294967295 is larger/));
    // Exact sizes: 2^53 + 1 elements are not rounded into a plausible size.
    make("{'descr': '|u1', 'fortran_order': False, 'shape': (3, 3002399751580331), }", Buffer.alloc(8));
    assert.throws(() => readNpy(p), has(/needs 9007199254740993 bytes, file has 8/));
    // Still fine: a padded header within the limit, a 0 in a shape of huge dimensions.
    make("{'descr': '<i2', 'fortran_order': False, 'shape': (9007199254740991, 0), }", Buffer.alloc(0), 9000);
    assert.deepEqual(readNpy(p).shape, [9007199254740991, 0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
