// Image folders with masks (src/data/masks.ts): the writer and the loader round trip, the split
// layout, resizing, and the error cases (each names the file).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { clutterDataset } from '../src/data/cluttered.js';
import { checkDataset, maskBox, type ImageDataset } from '../src/data/dataset.js';
import { FASHION_MNIST_CLASSES } from '../src/data/idx.js';
import { scaleBox, writeMaskedFolder } from '../src/data/masks.js';
import { loadDataset } from '../src/data/registry.js';
import { CLI } from './support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-masks-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function blobSource(n: number): ImageDataset {
  const images = new Uint8Array(n * 784);
  for (let j = 0; j < n; j++) {
    for (let y = 4 + (j % 3); y < 22 + (j % 4); y++) for (let x = 6; x < 20 + (j % 5); x++) images[j * 784 + y * 28 + x] = (30 + 7 * x + 11 * y + 13 * j) % 200 + 50;
  }
  return {
    name: 'fashion-mnist', numClasses: 10, classNames: [...FASHION_MNIST_CLASSES], channels: 1, height: 28, width: 28, length: n,
    images, labels: Int32Array.from({ length: n }, (_, j) => (j * 7) % 10), mean: [0.5], std: [0.25],
  };
}

/** Row i of the loaded folder -> index in the generated dataset (file names are the indices). */
function loadedOrder(ds: ImageDataset, gen: ImageDataset): number[] {
  // The loader goes class by class (folders sorted by name), then by file name (= index).
  const folders = gen.classNames.map((c) => c.replace(/\//g, '_'));
  const byFolder = [...folders.keys()].sort((a, b) => (folders[a]! < folders[b]! ? -1 : 1));
  const order: number[] = [];
  for (const c of byFolder) for (let i = 0; i < gen.length; i++) if (gen.labels[i] === c) order.push(i);
  assert.equal(order.length, ds.length);
  return order;
}

function assertSameRows(ds: ImageDataset, gen: ImageDataset): void {
  const order = loadedOrder(ds, gen);
  const ss = gen.height * gen.width;
  order.forEach((i, r) => {
    assert.equal(ds.labels[r], gen.labels[i], `label of ${i}`);
    assert.deepEqual(ds.images.subarray(r * ss, (r + 1) * ss), gen.images.subarray(i * ss, (i + 1) * ss), `image ${i}`);
    assert.deepEqual(ds.masks!.subarray(r * ss, (r + 1) * ss), gen.masks!.subarray(i * ss, (i + 1) * ss), `mask ${i}`);
    assert.deepEqual(ds.boxes!.subarray(4 * r, 4 * r + 4), gen.boxes!.subarray(4 * i, 4 * i + 4), `box ${i}`);
  });
}

test('writeMaskedFolder -> imagefolder loader: images, masks, boxes and labels come back identically (split layout)', async () => {
  const root = join(tmp, 'rt');
  const train = clutterDataset(blobSource(24), 'train', { seed: 1 });
  const test_ = clutterDataset(blobSource(13), 'test', { seed: 1 });
  await writeMaskedFolder(train, join(root, 'train'));
  await writeMaskedFolder(test_, join(root, 'test'));
  const a = JSON.parse(readFileSync(join(root, 'test', 'annotations.json'), 'utf8'));
  assert.equal(a.classes[0], 'T-shirt_top');
  assert.equal(a.class_names[0], 'T-shirt/top');
  for (const [split, gen] of [['train', train], ['test', test_]] as const) {
    const ds = await loadDataset('imagefolder', { root, split, grayscale: true });
    checkDataset(ds);
    assert.deepEqual(ds.classNames, a.classes, 'label order from annotations.json, not folder order');
    assert.equal(ds.height, 64);
    assertSameRows(ds, gen);
  }
});

test('resized on load: masks by nearest neighbour, boxes scaled to cover the same pixels', async () => {
  const dir = join(tmp, 'rs');
  const gen = clutterDataset(blobSource(6), 'train', { seed: 2 });
  await writeMaskedFolder(gen, dir);
  const ds = await loadDataset('imagefolder', { root: dir, split: 'train', grayscale: true, size: 32 });
  const order = loadedOrder(ds, gen);
  order.forEach((i, r) => {
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) assert.equal(ds.masks![r * 1024 + y * 32 + x], gen.masks![i * 4096 + 2 * y * 64 + 2 * x]);
    assert.deepEqual(Array.from(ds.boxes!.subarray(4 * r, 4 * r + 4)), scaleBox(Array.from(gen.boxes!.subarray(4 * i, 4 * i + 4)), 64, 64, 32, 32));
  });
  assert.deepEqual(scaleBox([3, 4, 5, 6], 64, 64, 32, 32), [1, 2, 2, 3]);
  assert.deepEqual(scaleBox([3, 4, 5, 6], 10, 10, 20, 20), [6, 8, 11, 13]);
});

const png = (w: number, h: number, v: (x: number, y: number) => number) =>
  sharp(Buffer.from(Array.from({ length: w * h }, (_, k) => v(k % w, Math.floor(k / w)))), { raw: { width: w, height: h, channels: 1 } }).png().toBuffer();

async function handFolder(name: string): Promise<string> {
  const dir = join(tmp, name);
  for (const c of ['cat', 'dog']) { mkdirSync(join(dir, 'images', c), { recursive: true }); mkdirSync(join(dir, 'masks', c), { recursive: true }); }
  writeFileSync(join(dir, 'images', 'cat', 'a.png'), await png(8, 6, (x, y) => x * 20 + y));
  writeFileSync(join(dir, 'images', 'dog', 'b.jpg'), await sharp(await png(8, 6, (x) => x * 30)).jpeg().toBuffer());
  writeFileSync(join(dir, 'masks', 'cat', 'a.png'), await png(8, 6, (x, y) => (x >= 2 && x <= 4 && y === 3 ? 200 : 0)));
  writeFileSync(join(dir, 'masks', 'dog', 'b.png'), await png(8, 6, (x, y) => (x === 7 && y >= 1 ? 1 : 0)));
  return dir;
}

test('hand-made masked folder: nonzero = object, a .jpg image takes the .png mask of the same path, boxes from masks or annotations.json', async () => {
  const dir = await handFolder('hand');
  let ds = await loadDataset('imagefolder', { root: dir, split: 'test', grayscale: true });
  assert.deepEqual(ds.classNames, ['cat', 'dog']);
  assert.deepEqual(Array.from(ds.boxes!), [2, 3, 4, 3, 7, 1, 7, 5]);
  assert.equal(ds.masks!.reduce((s, v) => s + v, 0), 3 + 5);
  assert.deepEqual(maskBox(ds.masks!, 6, 8, 48), [7, 1, 7, 5]);
  writeFileSync(join(dir, 'annotations.json'), JSON.stringify({ boxes: { 'cat/a.png': [0, 0, 7, 5], 'dog/b.jpg': [1, 2, 3, 4] } }));
  ds = await loadDataset('imagefolder', { root: dir, split: 'test', grayscale: true });
  assert.deepEqual(Array.from(ds.boxes!), [0, 0, 7, 5, 1, 2, 3, 4]);
});

test('errors name the file: missing mask, mask of another size, empty mask, missing or bad box, bad annotations.json', async () => {
  const load = (dir: string) => loadDataset('imagefolder', { root: dir, split: 'test', grayscale: true });
  let dir = await handFolder('e1');
  unlinkSync(join(dir, 'masks', 'dog', 'b.png'));
  await assert.rejects(load(dir), /mask .*e1\/masks\/dog\/b\.png of image .*e1\/images\/dog\/b\.jpg is missing/);
  dir = await handFolder('e2');
  writeFileSync(join(dir, 'masks', 'cat', 'a.png'), await png(7, 6, () => 1));
  await assert.rejects(load(dir), /mask .*e2\/masks\/cat\/a\.png is 7x6 but its image .*e2\/images\/cat\/a\.png is 8x6/);
  dir = await handFolder('e3');
  writeFileSync(join(dir, 'masks', 'cat', 'a.png'), await png(8, 6, () => 0));
  await assert.rejects(load(dir), /mask .*e3\/masks\/cat\/a\.png is empty/);
  writeFileSync(join(dir, 'annotations.json'), JSON.stringify({ boxes: { 'cat/a.png': [0, 0, 7, 5] } }));
  await assert.rejects(load(dir), /e3\/annotations\.json: box of dog\/b\.jpg is missing/);
  writeFileSync(join(dir, 'annotations.json'), JSON.stringify({ boxes: { 'cat/a.png': [0, 0, 8, 5], 'dog/b.jpg': [0, 0, 1, 1] } }));
  await assert.rejects(load(dir), /e3\/annotations\.json: box of cat\/a\.png \[0,0,8,5\] is not inside the 8x6 image/);
  writeFileSync(join(dir, 'annotations.json'), '{"boxes": [');
  await assert.rejects(load(dir), /cannot read .*e3\/annotations\.json/);
  writeFileSync(join(dir, 'annotations.json'), JSON.stringify({ classes: 'cat' }));
  await assert.rejects(load(dir), /e3\/annotations\.json: "classes" must be a non-empty list/);
  dir = await handFolder('e4');
  writeFileSync(join(dir, 'masks', 'cat', 'a.png'), 'not a png');
  await assert.rejects(load(dir), /cannot decode mask .*e4\/masks\/cat\/a\.png/);
});

function idx(dims: number[], data: Uint8Array): Buffer {
  const h = Buffer.alloc(4 + 4 * dims.length);
  h[2] = 8; h[3] = dims.length;
  dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
  return gzipSync(Buffer.concat([h, data]));
}

test('csgnet data cluttered writes a folder that loads back as the same dataset', async () => {
  const src = blobSource(15);
  const idxDir = join(tmp, 'idx');
  mkdirSync(idxDir);
  writeFileSync(join(idxDir, 'train-images-idx3-ubyte.gz'), idx([15, 28, 28], src.images));
  writeFileSync(join(idxDir, 'train-labels-idx1-ubyte.gz'), idx([15], Uint8Array.from(src.labels)));
  const out = join(tmp, 'cli-out');
  const run = (args: string[]) => execFileSync(process.execPath, [CLI, 'data', 'cluttered', ...args], { encoding: 'utf8', stdio: 'pipe' });
  run(['--source', 'mnist', '--data-root', idxDir, '--split', 'train', '--limit', '11', '--canvas', '48', '--distractors', '4', '--seed', '9', '--out', out]);
  const gen = clutterDataset({ ...src, classNames: [...'0123456789'] }, 'train', { canvas: 48, distractors: 4, seed: 9, limit: 11 });
  const ds = await loadDataset('imagefolder', { root: out, split: 'train', grayscale: true });
  assertSameRows(ds, gen);
  const a = JSON.parse(readFileSync(join(out, 'annotations.json'), 'utf8'));
  assert.deepEqual(a.generator, { dataset: 'cluttered-mnist', split: 'train', canvas: 48, distractors: 4, seed: 9, limit: 11 });
  assert.throws(() => run(['--source', 'mnist', '--data-root', idxDir, '--out', out]), /--out .*cli-out: the folder exists and is not empty/);
  assert.throws(() => run(['--source', 'mnist', '--data-root', idxDir, '--split', 'train', '--canvas', '30', '--out', join(tmp, 'x')]), /got 30 \(--canvas\)/);
});
