// CIFAR-10 / CIFAR-100 binary readers on small synthetic files.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCifar, CIFAR10_CLASSES, CIFAR100_FINE_CLASSES } from '../src/data/cifar.js';
import { loadDataset } from '../src/data/registry.js';
import { checkDataset } from '../src/data/dataset.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-data-cifar-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

/** Pixel value of record r (global id), byte k of the 3072. */
const px = (r: number, k: number) => (r * 31 + k * 7 + (k >> 10) * 50) & 0xff;

function records(ids: number[], labelBytes: (id: number) => number[]): Buffer {
  const parts: Buffer[] = [];
  for (const id of ids) {
    const lb = labelBytes(id);
    const b = Buffer.alloc(lb.length + 3072);
    lb.forEach((v, i) => (b[i] = v));
    for (let k = 0; k < 3072; k++) b[lb.length + k] = px(id, k);
    parts.push(b);
  }
  return Buffer.concat(parts);
}

function makeCifar10(meta = true): string {
  const parent = join(tmp, `c10_${n++}`);
  const d = join(parent, 'cifar-10-batches-bin');
  mkdirSync(d, { recursive: true });
  for (let f = 1; f <= 5; f++) writeFileSync(join(d, `data_batch_${f}.bin`), records([2 * (f - 1), 2 * (f - 1) + 1], (id) => [id % 10]));
  writeFileSync(join(d, 'test_batch.bin'), records([100, 101, 102], (id) => [(id * 3) % 10]));
  if (meta) writeFileSync(join(d, 'batches.meta.txt'), CIFAR10_CLASSES.map((c) => c.toUpperCase()).join('\n') + '\n\n');
  return parent;
}

function makeCifar100(names = true): string {
  const d = join(tmp, `c100_${n++}`, 'cifar-100-binary');
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'train.bin'), records([0, 1, 2, 3], (id) => [id % 20, 99 - id]));
  writeFileSync(join(d, 'test.bin'), records([7], () => [19, 42]));
  if (names) writeFileSync(join(d, 'fine_label_names.txt'), Array.from({ length: 100 }, (_, i) => `fine${i}`).join('\n'));
  return d;
}

test('CIFAR-10 binary: train batches concatenated in order, CHW pixels, labels, meta names', () => {
  const parent = makeCifar10();
  for (const root of [parent, join(parent, 'cifar-10-batches-bin')]) {
    const ds = loadCifar(root, 'train', 'cifar10');
    checkDataset(ds);
    assert.deepEqual([ds.length, ds.channels, ds.height, ds.width, ds.numClasses], [10, 3, 32, 32, 10]);
    assert.deepEqual([...ds.labels], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const r of [0, 3, 9]) for (const k of [0, 1023, 1024, 2048, 3071]) assert.equal(ds.images[r * 3072 + k], px(r, k), `record ${r} byte ${k}`);
    assert.deepEqual(ds.classNames, CIFAR10_CLASSES.map((c) => c.toUpperCase()));
    assert.deepEqual(ds.mean, [0.4914, 0.4822, 0.4465]);
    assert.deepEqual(ds.std, [0.2470, 0.2435, 0.2616]);
  }
  const te = loadCifar(parent, 'test', 'cifar10');
  assert.deepEqual([...te.labels], [0, 3, 6]);
  assert.equal(te.images[2 * 3072 + 5], px(102, 5));
});

test('CIFAR-10: default class names without batches.meta.txt; registry', async () => {
  const ds = await loadDataset('cifar10', { root: makeCifar10(false), split: 'test' });
  assert.deepEqual(ds.classNames, CIFAR10_CLASSES);
});

test('CIFAR-10 errors: missing file, bad size, label out of range, bad folder, bad meta', () => {
  let p = makeCifar10();
  unlinkSync(join(p, 'cifar-10-batches-bin', 'data_batch_4.bin'));
  assert.throws(() => loadCifar(p, 'train', 'cifar10'), /cifar10 train: missing file .*data_batch_4\.bin/);
  p = makeCifar10();
  writeFileSync(join(p, 'cifar-10-batches-bin', 'test_batch.bin'), Buffer.concat([records([1], () => [1]), Buffer.alloc(100)]));
  assert.throws(() => loadCifar(p, 'test', 'cifar10'), /test_batch\.bin: size 3173 bytes is not a multiple of the 3073-byte cifar10 record/);
  writeFileSync(join(p, 'cifar-10-batches-bin', 'test_batch.bin'), Buffer.alloc(0));
  assert.throws(() => loadCifar(p, 'test', 'cifar10'), /test_batch\.bin: file is empty/);
  writeFileSync(join(p, 'cifar-10-batches-bin', 'test_batch.bin'), records([1, 2, 3], (id) => [id === 3 ? 10 : 0]));
  assert.throws(() => loadCifar(p, 'test', 'cifar10'), /test_batch\.bin: label 10 of record 2 is out of range \(cifar10 has 10 classes\)/);
  assert.throws(() => loadCifar(join(tmp, 'nowhere'), 'test', 'cifar10'), /cifar10: data folder .*nowhere does not exist/);
  assert.throws(() => loadCifar(tmp, 'test', 'cifar10'), /neither the cifar-10-batches-bin folder .* nor its parent/);
  p = makeCifar10();
  writeFileSync(join(p, 'cifar-10-batches-bin', 'batches.meta.txt'), 'a\nb\n');
  assert.throws(() => loadCifar(p, 'test', 'cifar10'), /batches\.meta\.txt: 2 class names, expected 10/);
});

test('CIFAR-100 binary: fine labels, fine_label_names.txt, fallback names', () => {
  const d = makeCifar100();
  const ds = loadCifar(d, 'train', 'cifar100');
  checkDataset(ds);
  assert.deepEqual([ds.length, ds.numClasses], [4, 100]);
  assert.deepEqual([...ds.labels], [99, 98, 97, 96]);
  assert.equal(ds.images[3 * 3072 + 2047], px(3, 2047));
  assert.equal(ds.classNames[42], 'fine42');
  assert.deepEqual(ds.mean, [0.5071, 0.4865, 0.4409]);
  assert.deepEqual(ds.std, [0.2673, 0.2564, 0.2762]);
  const te = loadCifar(join(d, '..'), 'test', 'cifar100'); // parent folder accepted
  assert.deepEqual([...te.labels], [42]);
  assert.equal(te.images[0], px(7, 0));
  const noNames = loadCifar(makeCifar100(false), 'test', 'cifar100');
  assert.equal(noNames.classNames.length, 100);
  assert.equal(new Set(CIFAR100_FINE_CLASSES).size, 100);
  assert.deepEqual([noNames.classNames[0], noNames.classNames[42], noNames.classNames[99]], ['apple', 'leopard', 'worm']);
});

test('CIFAR-100 errors: fine/coarse label out of range, bad size', () => {
  const d = makeCifar100();
  writeFileSync(join(d, 'test.bin'), records([1, 2], (id) => [0, id === 2 ? 100 : 5]));
  assert.throws(() => loadCifar(d, 'test', 'cifar100'), /test\.bin: label 100 of record 1 is out of range \(cifar100 has 100 classes\)/);
  writeFileSync(join(d, 'test.bin'), records([1], () => [20, 5]));
  assert.throws(() => loadCifar(d, 'test', 'cifar100'), /coarse label 20 of record 0 is out of range/);
  writeFileSync(join(d, 'test.bin'), records([1], () => [5]));  // a CIFAR-10 record
  assert.throws(() => loadCifar(d, 'test', 'cifar100'), /size 3073 bytes is not a multiple of the 3074-byte cifar100 record/);
});

test('CIFAR hostile files: a folder in place of a batch, a huge class-names file; errors name the file', () => {
  const p = makeCifar10();
  const batch = join(p, 'cifar-10-batches-bin', 'test_batch.bin');
  rmSync(batch);
  mkdirSync(batch);
  assert.throws(() => loadCifar(p, 'test', 'cifar10'), (e: Error) => e.message.includes(batch) && /not a regular file/.test(e.message));
  const q = makeCifar10();
  const meta = join(q, 'cifar-10-batches-bin', 'batches.meta.txt');
  writeFileSync(meta, Buffer.alloc(2 << 20, 0x61));
  assert.throws(() => loadCifar(q, 'test', 'cifar10'), (e: Error) => e.message.includes(meta) && /too large for a list of 10 class names/.test(e.message));
});
