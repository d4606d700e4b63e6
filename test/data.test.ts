// MNIST/Fashion-MNIST idx reader and the dataset registry.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadMnistLike, parseIdx, DEFAULT_FASHION_MNIST_DIR, FASHION_MNIST_CLASSES } from '../src/data/idx.js';
import { loadDataset, KNOWN_DATASETS } from '../src/data/registry.js';
import { checkDataset, computeMeanStd } from '../src/data/dataset.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-data-idx-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let dirCount = 0;
function newDir(): string {
  const d = join(tmp, `d${dirCount++}`);
  mkdirSync(d);
  return d;
}

function idx3(n: number, h: number, w: number, opts: { magic?: number; extra?: number; cut?: number } = {}): Buffer {
  const b = Buffer.alloc(16 + n * h * w + (opts.extra ?? 0) - (opts.cut ?? 0));
  b.writeUInt32BE(opts.magic ?? 0x803, 0);
  b.writeUInt32BE(n, 4); b.writeUInt32BE(h, 8); b.writeUInt32BE(w, 12);
  for (let i = 16; i < b.length; i++) b[i] = (i * 7) & 0xff;
  return b;
}
function idx1(labels: number[], magic = 0x801): Buffer {
  const b = Buffer.alloc(8 + labels.length);
  b.writeUInt32BE(magic, 0); b.writeUInt32BE(labels.length, 4);
  labels.forEach((l, i) => (b[8 + i] = l));
  return b;
}
/** Writes a test split (t10k-*) into a fresh dir; gz: gzip both files (names end in .gz). */
function writeSplit(img: Buffer, lbl: Buffer, gz = true, split: 'train' | 't10k' = 't10k'): string {
  const d = newDir();
  const sfx = gz ? '.gz' : '';
  writeFileSync(join(d, `${split}-images-idx3-ubyte${sfx}`), gz ? gzipSync(img) : img);
  writeFileSync(join(d, `${split}-labels-idx1-ubyte${sfx}`), gz ? gzipSync(lbl) : lbl);
  return d;
}

const haveFashion = existsSync(join(DEFAULT_FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'));
const noFashion = haveFashion ? false : `Fashion-MNIST not installed at ${DEFAULT_FASHION_MNIST_DIR} (apt-get install dataset-fashion-mnist)`;

test('real Fashion-MNIST train split (default folder)', { skip: noFashion }, () => {
  const ds = loadMnistLike(undefined, 'train', 'fashion-mnist');
  checkDataset(ds);
  assert.equal(ds.length, 60000);
  assert.deepEqual([ds.channels, ds.height, ds.width], [1, 28, 28]);
  assert.equal(ds.images.length, 60000 * 784);
  assert.deepEqual([...ds.labels.subarray(0, 5)], [9, 0, 0, 3, 0]);
  assert.equal(ds.numClasses, 10);
  assert.deepEqual(ds.classNames, FASHION_MNIST_CLASSES);
  assert.deepEqual(ds.mean, [0.2860]);
  assert.deepEqual(ds.std, [0.3530]);
  // Sum of the first image's pixels, from /usr/bin/python3 + gzip.
  let s = 0;
  for (let i = 0; i < 784; i++) s += ds.images[i]!;
  assert.equal(s, 76247);
  // The documented mean matches the data.
  const st = computeMeanStd(ds.images, ds.length, 1, 28, 28);
  assert.ok(Math.abs(st.mean[0]! - 0.2860) < 1e-3 && Math.abs(st.std[0]! - 0.3530) < 1e-3, JSON.stringify(st));
  // Balanced classes: 6000 each.
  const counts = new Array(10).fill(0);
  for (const l of ds.labels) counts[l]++;
  assert.deepEqual(counts, new Array(10).fill(6000));
});

test('real Fashion-MNIST test split via the registry', { skip: noFashion }, async () => {
  const ds = await loadDataset('fashion-mnist', { split: 'test' });
  assert.equal(ds.length, 10000);
  assert.deepEqual([...ds.labels.subarray(0, 5)], [9, 2, 1, 1, 6]);
  let s = 0;
  for (let i = 0; i < 784; i++) s += ds.images[i]!;
  assert.equal(s, 33456);
});

test('gzipped and plain idx files load the same data', () => {
  const img = idx3(4, 3, 2), lbl = idx1([1, 0, 9, 3]);
  const a = loadMnistLike(writeSplit(img, lbl, true), 'test', 'mnist');
  const b = loadMnistLike(writeSplit(img, lbl, false), 'test', 'mnist');
  for (const ds of [a, b]) {
    assert.equal(ds.name, 'mnist');
    assert.deepEqual([ds.length, ds.channels, ds.height, ds.width], [4, 1, 3, 2]);
    assert.deepEqual([...ds.labels], [1, 0, 9, 3]);
    assert.deepEqual([...ds.images], [...img.subarray(16)]);
    assert.deepEqual(ds.mean, [0.1307]);
    assert.deepEqual(ds.std, [0.3081]);
    assert.deepEqual(ds.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  }
  // A gzip stream under the un-gzipped name is detected by its magic.
  const d = newDir();
  writeFileSync(join(d, 'train-images-idx3-ubyte'), gzipSync(img));
  writeFileSync(join(d, 'train-labels-idx1-ubyte'), lbl);
  assert.deepEqual([...loadMnistLike(d, 'train', 'mnist').labels], [1, 0, 9, 3]);
});

test('missing idx file names the file', () => {
  const d = newDir();
  assert.throws(() => loadMnistLike(d, 'test', 'fashion-mnist'), /t10k-images-idx3-ubyte\.gz \(or t10k-images-idx3-ubyte\) not found in .*d\d+/);
  writeFileSync(join(d, 't10k-images-idx3-ubyte.gz'), gzipSync(idx3(2, 28, 28)));
  assert.throws(() => loadMnistLike(d, 'test', 'fashion-mnist'), /t10k-labels-idx1-ubyte\.gz .*not found/);
  assert.throws(() => loadMnistLike(join(d, 'nope'), 'train', 'mnist'), /train-images-idx3-ubyte\.gz .*not found.*does not exist/);
  assert.throws(() => loadMnistLike(undefined, 'train', 'mnist'), /mnist: no data folder given/);
});

test('corrupt gzip is reported with the file name', () => {
  const bad = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  const d = writeSplit(idx3(2, 28, 28), idx1([1, 2]), false);
  writeFileSync(join(d, 't10k-images-idx3-ubyte'), bad);
  assert.throws(() => loadMnistLike(d, 'test', 'mnist'), (e: Error) => /t10k-images-idx3-ubyte: corrupt gzip data/.test(e.message));
  // A gzip stream cut in half.
  const gz = gzipSync(idx3(50, 28, 28));
  writeFileSync(join(d, 't10k-images-idx3-ubyte'), gz.subarray(0, gz.length >> 1));
  assert.throws(() => loadMnistLike(d, 'test', 'mnist'), /t10k-images-idx3-ubyte: corrupt gzip data/);
});

test('wrong magic number, dtype byte and truncated header', () => {
  const lbl = idx1([1, 2]);
  assert.throws(() => loadMnistLike(writeSplit(idx3(2, 28, 28, { magic: 0x801 }), lbl), 'test', 'mnist'),
    /t10k-images-idx3-ubyte\.gz: wrong magic number 0x00000801, expected 0x00000803/);
  assert.throws(() => loadMnistLike(writeSplit(idx3(2, 28, 28), idx1([1, 2], 0x803)), 'test', 'mnist'),
    /t10k-labels-idx1-ubyte\.gz: wrong magic number 0x00000803, expected 0x00000801/);
  assert.throws(() => loadMnistLike(writeSplit(idx3(2, 28, 28, { magic: 0x0d03 }), lbl), 'test', 'mnist'),
    /dtype byte is 0x0d, expected 0x08/);
  assert.throws(() => loadMnistLike(writeSplit(Buffer.from([0, 0, 8]), lbl), 'test', 'mnist'), /truncated header/);
  assert.throws(() => loadMnistLike(writeSplit(idx3(2, 28, 28).subarray(0, 10), lbl), 'test', 'mnist'), /truncated header/);
  // Real data is big-endian: a little-endian magic is rejected.
  const le = idx3(2, 28, 28); le.writeUInt32LE(0x803, 0);
  assert.throws(() => loadMnistLike(writeSplit(le, lbl), 'test', 'mnist'), /wrong magic number 0x03080000/);
});

test('truncated data and trailing garbage', () => {
  const lbl = idx1([1, 2]);
  assert.throws(() => loadMnistLike(writeSplit(idx3(2, 28, 28, { cut: 1 }), lbl), 'test', 'mnist'),
    /t10k-images-idx3-ubyte\.gz: truncated data: header says 2x28x28 = 1568 bytes but only 1567 are present/);
  assert.throws(() => loadMnistLike(writeSplit(idx3(2, 28, 28), lbl.subarray(0, 9)), 'test', 'mnist'),
    /t10k-labels-idx1-ubyte\.gz: truncated data: header says 2 = 2 bytes but only 1/);
  assert.throws(() => loadMnistLike(writeSplit(idx3(2, 28, 28, { extra: 3 }), lbl), 'test', 'mnist'),
    /3 bytes of trailing garbage/);
  assert.throws(() => loadMnistLike(writeSplit(idx3(2, 28, 28), Buffer.concat([lbl, Buffer.from([0])])), 'test', 'mnist'),
    /t10k-labels-idx1-ubyte\.gz: 1 bytes of trailing garbage/);
});

test('image/label count mismatch and label out of range', () => {
  assert.throws(() => loadMnistLike(writeSplit(idx3(3, 28, 28), idx1([1, 2])), 'test', 'fashion-mnist'),
    /holds 3 images but .*t10k-labels-idx1-ubyte\.gz holds 2 labels/);
  assert.throws(() => loadMnistLike(writeSplit(idx3(3, 4, 4), idx1([1, 10, 2]), true, 'train'), 'train', 'fashion-mnist'),
    /train-labels-idx1-ubyte\.gz: label 10 of sample 1 is out of range \(fashion-mnist has 10 classes\)/);
});

test('parseIdx on an in-memory buffer', () => {
  const r = parseIdx(idx3(1, 2, 3), 3, 'mem');
  assert.deepEqual(r.dims, [1, 2, 3]);
  assert.equal(r.data.length, 6);
  assert.throws(() => parseIdx(idx3(1, 0, 3), 3, 'mem'), /mem: dimension 1 is 0/);
  // Zero images is a valid (empty) file.
  assert.equal(parseIdx(idx3(0, 28, 28), 3, 'mem').data.length, 0);
});

test('registry: unknown name lists the known ones; missing root', async () => {
  await assert.rejects(loadDataset('cifar-10', { split: 'train' }), (e: Error) => {
    assert.match(e.message, /unknown dataset "cifar-10"/);
    for (const k of KNOWN_DATASETS) assert.ok(e.message.includes(k), `${k} missing from: ${e.message}`);
    return true;
  });
  await assert.rejects(loadDataset('cifar10', { split: 'train' }), /cifar10: no data folder given/);
  await assert.rejects(loadDataset('mnist', { split: 'valid' as any, root: tmp }), /split must be 'train' or 'test'/);
  const d = writeSplit(idx3(2, 5, 5), idx1([7, 8]));
  const ds = await loadDataset('mnist', { root: d, split: 'test' });
  assert.deepEqual([...ds.labels], [7, 8]);
  assert.deepEqual(readFileSync(join(d, 't10k-labels-idx1-ubyte.gz')).subarray(0, 2), Buffer.from([0x1f, 0x8b]));
});

test('hostile idx files: 0 images, a gzip bomb, dimensions past 2^53, a folder in place of a file', async () => {
  // 0 images trained to NaN with exit code 0: now an error naming the file and --data-root.
  const empty = writeSplit(idx3(0, 28, 28), idx1([]));
  assert.throws(() => loadMnistLike(empty, 'test', 'mnist'), (e: Error) => e.message.includes(join(empty, 't10k-images-idx3-ubyte.gz')) && /holds no images.*--data-root/.test(e.message));
  await assert.rejects(loadDataset('mnist', { root: empty, split: 'test' }), /holds no images/);
  // 64 MiB of zeros after a 2x28x28 header, in 64 KiB of gzip: decompression stops 64 KiB past the announced size.
  const bomb = Buffer.alloc(16 + (64 << 20));
  idx3(2, 28, 28).copy(bomb, 0, 0, 16);
  const d = writeSplit(bomb, idx1([1, 2]));
  assert.throws(() => loadMnistLike(d, 'test', 'mnist'), /t10k-images-idx3-ubyte\.gz: trailing garbage: the gzip stream holds over 65536 bytes more than the 2x28x28 = 1568 data bytes/);
  // The same bytes, un-gzipped, with a header announcing 2^32-1 cubed bytes: exact numbers, no float rounding.
  const huge = idx3(1, 1, 1); huge.writeUInt32BE(0xffffffff, 4); huge.writeUInt32BE(0xffffffff, 8); huge.writeUInt32BE(0xffffffff, 12);
  assert.throws(() => loadMnistLike(writeSplit(huge, idx1([1]), false), 'test', 'mnist'), /header says 4294967295x4294967295x4294967295 = 79228162458924105385300197375 bytes but only 1 are present/);
  assert.throws(() => loadMnistLike(writeSplit(huge, idx1([1]), true), 'test', 'mnist'), /more than one file can hold/);
  // A folder named like the file.
  const f = newDir();
  mkdirSync(join(f, 't10k-images-idx3-ubyte'));
  writeFileSync(join(f, 't10k-labels-idx1-ubyte'), idx1([1]));
  assert.throws(() => loadMnistLike(f, 'test', 'mnist'), /t10k-images-idx3-ubyte\.gz \(or t10k-images-idx3-ubyte\) not found in .* \(--data-root\)/);
});
