// Cluttered Fashion-MNIST / MNIST (src/data/cluttered.ts): determinism, masks and boxes as the
// generator's spec defines them, distractors, the registry and its errors.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clutterDataset, clutteredSample, resizeBilinear } from '../src/data/cluttered.js';
import { checkDataset, maskBox, type ImageDataset } from '../src/data/dataset.js';
import { DEFAULT_FASHION_MNIST_DIR } from '../src/data/idx.js';
import { loadDataset } from '../src/data/registry.js';
import { subset } from '../src/data/split.js';
import { CIFAR_PRESET, validateConfig } from '../src/csg/config.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-cluttered-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** n 28x28 images, image j a constant 40 + 7 j (so every crop and every item is a flat square). */
function flatSource(n: number): ImageDataset {
  const images = new Uint8Array(n * 784);
  for (let j = 0; j < n; j++) images.fill(40 + 7 * j, j * 784, (j + 1) * 784);
  return {
    name: 'flat', numClasses: 10, classNames: [...'0123456789'], channels: 1, height: 28, width: 28, length: n,
    images, labels: Int32Array.from({ length: n }, (_, j) => j % 10), mean: [0.5], std: [0.25],
  };
}

/** n 28x28 images with a textured digit-like blob (zeros around it), like MNIST. */
function blobSource(n: number): ImageDataset {
  const images = new Uint8Array(n * 784);
  for (let j = 0; j < n; j++) {
    for (let y = 4 + (j % 3); y < 22 + (j % 4); y++) for (let x = 6; x < 20 + (j % 5); x++) images[j * 784 + y * 28 + x] = (30 + 7 * x + 11 * y + 13 * j) % 200 + 50;
  }
  return { ...flatSource(n), name: 'blob', images };
}

test('bilinear resize equals torch F.interpolate(bilinear, align_corners=False), rounded half up', () => {
  // Expected values printed by torch 1.13: F.interpolate(x, size, mode='bilinear', align_corners=False).
  assert.deepEqual(Array.from(resizeBilinear(Uint8Array.from([0, 100, 200, 255]), 2, 2, 4, 4)),
    [0, 25, 75, 100, 50, 72, 117, 139, 150, 167, 200, 216, 200, 214, 241, 255]);
  const src = Uint8Array.from({ length: 784 }, (_, k) => k % 251);
  const out = resizeBilinear(src, 28, 28, 41, 41);
  const block = [0, 1, 2].map((y) => Array.from(out.subarray(y * 41, y * 41 + 6)));
  assert.deepEqual(block, [[0, 1, 1, 2, 3, 3], [15, 15, 16, 17, 17, 18], [34, 34, 35, 36, 36, 37]]);
});

test('same seed gives the same bytes, another seed other ones; any index alone equals the full split', () => {
  const src = blobSource(40);
  const a = clutterDataset(src, 'train', { seed: 3 }), b = clutterDataset(src, 'train', { seed: 3 });
  assert.deepEqual(a.images, b.images);
  assert.deepEqual(a.masks, b.masks);
  assert.deepEqual(a.boxes, b.boxes);
  const c = clutterDataset(src, 'train', { seed: 4 });
  assert.notDeepEqual(c.images, a.images);
  assert.notDeepEqual(c.boxes, a.boxes);
  const t = clutterDataset(src, 'test', { seed: 3 });
  assert.notDeepEqual(t.images, a.images, 'train and test are seeded apart');
  for (const i of [0, 17, 39]) {
    const s = clutteredSample(src, 'train', i, { seed: 3 });
    assert.deepEqual(s.image, a.images.subarray(i * 4096, (i + 1) * 4096));
    assert.deepEqual(s.mask, a.masks!.subarray(i * 4096, (i + 1) * 4096));
    assert.deepEqual(s.box, Array.from(a.boxes!.subarray(4 * i, 4 * i + 4)));
  }
  const head = clutterDataset(src, 'train', { seed: 3, limit: 5 });
  assert.equal(head.length, 5);
  assert.deepEqual(head.images, a.images.subarray(0, 5 * 4096));
  checkDataset(a);
  assert.deepEqual(a.labels, src.labels);
  assert.equal(a.height, 64);
  assert.equal(a.width, 64);
});

test('without distractors: the item is a flat square of side round(28 f), f in [1, 1.6], fully inside the canvas; mask = item, box = its tight box', () => {
  const src = flatSource(30);
  const ds = clutterDataset(src, 'train', { distractors: 0, canvas: 50, seed: 1 });
  const sides = new Set<number>();
  for (let i = 0; i < ds.length; i++) {
    const img = ds.images.subarray(i * 2500, (i + 1) * 2500), mask = ds.masks!.subarray(i * 2500, (i + 1) * 2500);
    const [x0, y0, x1, y1] = Array.from(ds.boxes!.subarray(4 * i, 4 * i + 4));
    assert.deepEqual([x0, y0, x1, y1], maskBox(mask, 50, 50));
    const side = x1! - x0! + 1;
    assert.equal(y1! - y0! + 1, side);
    assert.ok(side >= 28 && side <= 45, `side ${side}`);
    sides.add(side);
    assert.ok(x0! >= 0 && y0! >= 0 && x1! < 50 && y1! < 50);
    for (let y = 0; y < 50; y++) for (let x = 0; x < 50; x++) {
      const inside = x >= x0! && x <= x1! && y >= y0! && y <= y1!;
      assert.equal(mask[y * 50 + x], inside ? 1 : 0);
      assert.equal(img[y * 50 + x], inside ? 40 + 7 * i : 0);
    }
  }
  assert.ok(sides.size >= 8, `scales vary: ${[...sides]}`);
});

test('distractors: 8x8 squares of other images outside the mask, composited by maximum; the mask comes from the item alone', () => {
  const src = flatSource(16);
  const base = clutterDataset(src, 'train', { distractors: 0, seed: 2 });
  const ds = clutterDataset(src, 'train', { distractors: 6, seed: 2 });
  let outsideTotal = 0;
  for (let i = 0; i < ds.length; i++) {
    const img = ds.images.subarray(i * 4096, (i + 1) * 4096), mask = ds.masks!.subarray(i * 4096, (i + 1) * 4096);
    // Same item, same place: the scale and position are drawn before the distractors.
    assert.deepEqual(mask, base.masks!.subarray(i * 4096, (i + 1) * 4096));
    const own = 40 + 7 * i;
    let outside = 0;
    for (let k = 0; k < 4096; k++) {
      const v = img[k]!;
      assert.ok(v >= base.images[i * 4096 + k]!, 'maximum compositing never lowers a pixel');
      if (!mask[k] && v) {
        outside++;
        assert.notEqual(v, own, 'distractors come from other images');
        assert.equal((v - 40) % 7, 0);
      }
    }
    assert.ok(outside <= 6 * 64);
    outsideTotal += outside;
  }
  assert.ok(outsideTotal > 16 * 64, `distractors visible: ${outsideTotal} pixels outside the masks`);
});

test('mask is the item\'s pixels above 10 % of its maximum (textured items)', () => {
  const src = blobSource(12);
  const ds = clutterDataset(src, 'test', { distractors: 0, seed: 5 });
  for (let i = 0; i < ds.length; i++) {
    const img = ds.images.subarray(i * 4096, (i + 1) * 4096), mask = ds.masks!.subarray(i * 4096, (i + 1) * 4096);
    let max = 0;
    for (const v of img) max = Math.max(max, v);
    for (let k = 0; k < 4096; k++) assert.equal(mask[k], img[k]! > 0.1 * max ? 1 : 0);
  }
});

test('subset keeps masks and boxes row for row', () => {
  const ds = clutterDataset(blobSource(10), 'train', {});
  const s = subset(ds, [7, 2]);
  assert.deepEqual(s.masks, Uint8Array.from([...ds.masks!.subarray(7 * 4096, 8 * 4096), ...ds.masks!.subarray(2 * 4096, 3 * 4096)]));
  assert.deepEqual(Array.from(s.boxes!), [...ds.boxes!.subarray(28, 32), ...ds.boxes!.subarray(8, 12)]);
  checkDataset(s);
});

function idx(magicDims: 1 | 3, dims: number[], data: Uint8Array): Buffer {
  const h = Buffer.alloc(4 + 4 * dims.length);
  h[2] = 8; h[3] = magicDims;
  dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
  return gzipSync(Buffer.concat([h, data]));
}

test('cluttered-mnist through the registry (--data-root, --canvas, --distractors) and its errors', async () => {
  const src = blobSource(20);
  const dir = join(tmp, 'mnist');
  mkdirSync(dir);
  writeFileSync(join(dir, 't10k-images-idx3-ubyte.gz'), idx(3, [20, 28, 28], src.images));
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), idx(1, [20], Uint8Array.from(src.labels)));
  const ds = await loadDataset('cluttered-mnist', { root: dir, split: 'test', canvas: 48, distractors: 3 });
  assert.equal(ds.name, 'cluttered-mnist');
  assert.equal(ds.height, 48);
  assert.deepEqual(ds.images, clutterDataset(src, 'test', { canvas: 48, distractors: 3 }).images);
  await assert.rejects(loadDataset('cluttered-mnist', { root: dir, split: 'test', canvas: 40 }), /canvas must be an integer in \[45, 1024\].*got 40 \(--canvas\)/);
  await assert.rejects(loadDataset('cluttered-mnist', { root: dir, split: 'test', distractors: -1 }), /got -1 \(--distractors\)/);
  await assert.rejects(loadDataset('cluttered-mnist', { split: 'test' }), /no data folder given \(pass --data-root DIR\)/);
  await assert.rejects(loadDataset('cluttered-mnist', { root: join(tmp, 'nope'), split: 'test' }), /t10k-images-idx3-ubyte\.gz .*not found in .*nope/);
  assert.throws(() => clutteredSample(flatSource(1), 'test', 0), /holds only 1/);
  assert.throws(() => clutteredSample(flatSource(3), 'test', 3), /index 3 is out of range/);
});

const haveFashion = existsSync(join(DEFAULT_FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz'));
test('cluttered Fashion-MNIST test split: every mask nonempty and inside its box, box = tight box, distractors outside', { skip: haveFashion ? false : 'Fashion-MNIST not installed' }, async () => {
  const ds = await loadDataset('cluttered-fashion-mnist', { split: 'test' });
  const plain = await loadDataset('fashion-mnist', { split: 'test' });
  assert.equal(ds.length, 10000);
  assert.deepEqual(ds.labels, plain.labels);
  checkDataset(ds);
  let withClutter = 0;
  for (let i = 0; i < ds.length; i++) {
    const mask = ds.masks!.subarray(i * 4096, (i + 1) * 4096), img = ds.images.subarray(i * 4096, (i + 1) * 4096);
    const box = maskBox(mask, 64, 64);
    assert.ok(box, `mask ${i} empty`);
    assert.deepEqual(box, Array.from(ds.boxes!.subarray(4 * i, 4 * i + 4)));
    let outside = 0;
    for (let k = 0; k < 4096; k++) {
      if (mask[k]) assert.ok(img[k]! > 0);
      const x = k % 64, y = (k - x) / 64;
      if (img[k]! > 0 && (x < box![0] || x > box![2] || y < box![1] || y > box![3])) outside++;
    }
    if (outside > 0) withClutter++;
  }
  assert.ok(withClutter > 9000, `${withClutter} of 10000 images show distractors outside the item's box`);
});

test('training configuration: --canvas / --distractors are checked and belong to the cluttered-* datasets', () => {
  const base = { ...structuredClone(CIFAR_PRESET), dataset: 'cluttered-fashion-mnist' };
  validateConfig({ ...base, canvas: 64, distractors: 6 });
  assert.throws(() => validateConfig({ ...base, canvas: 0 }), /canvas must be a positive integer, got 0/);
  assert.throws(() => validateConfig({ ...base, distractors: 1.5 }), /distractors must be a non-negative integer, got 1.5/);
  assert.throws(() => validateConfig({ ...base, dataset: 'fashion-mnist', distractors: 2 }), /distractors \(--distractors\) applies only to the cluttered-\* datasets, not to fashion-mnist/);
});
