// PRNG, subsets/splits and the batch loader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, mixSeed } from '../src/data/rng.js';
import { splitDataset, subset } from '../src/data/split.js';
import { BatchLoader, type Batch } from '../src/data/loader.js';
import { sharedBytes, type ImageDataset } from '../src/data/dataset.js';

function synth(n: number, c: number, h: number, w: number, numClasses: number, labelOf = (i: number) => i % numClasses): ImageDataset {
  const images = new Uint8Array(n * c * h * w); // not shared: worker threads must cope with that too
  for (let i = 0; i < images.length; i++) images[i] = (i * 13 + (i >> 5)) & 0xff;
  return {
    name: 'synth', numClasses, classNames: Array.from({ length: numClasses }, (_, k) => `c${k}`),
    channels: c, height: h, width: w, length: n, images, labels: Int32Array.from({ length: n }, (_, i) => labelOf(i)),
    mean: new Array(c).fill(0.5), std: new Array(c).fill(0.25),
  };
}

async function collectAsync(it: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

test('xoshiro128** matches the reference C implementation', () => {
  const r = Rng.fromState([1, 2, 3, 4]);
  assert.deepEqual(Array.from({ length: 8 }, () => r.nextU32()), [11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849]);
  const q = Rng.fromState([0xdeadbeef, 0x12345678, 0xffffffff, 7]);
  for (let i = 0; i < 1000; i++) q.nextU32();
  assert.equal(q.nextU32(), 854514432);
  assert.deepEqual(q.getState().slice(1), [9658583, 1383918745, 817280866]);
});

test('rng: seeding, state save/restore, ranges, errors', () => {
  const a = new Rng(42), b = new Rng(42), c = new Rng(43);
  const sa = Array.from({ length: 5 }, () => a.nextU32());
  assert.deepEqual(sa, Array.from({ length: 5 }, () => b.nextU32()));
  assert.notDeepEqual(sa, Array.from({ length: 5 }, () => c.nextU32()));
  const st = a.getState();
  const next = [a.float(), a.int(7), a.nextU32()];
  const resumed = Rng.fromState(st);
  assert.deepEqual([resumed.float(), resumed.int(7), resumed.nextU32()], next);
  const hist = new Array(7).fill(0);
  for (let i = 0; i < 7000; i++) { const v = a.int(7); assert.ok(Number.isInteger(v) && v >= 0 && v < 7); hist[v]++; }
  assert.ok(hist.every((h) => h > 850 && h < 1150), `int(7) histogram ${hist}`);
  for (let i = 0; i < 1000; i++) { const f = a.float(); assert.ok(f >= 0 && f < 1); }
  const p = new Rng(1).permutation(100);
  assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
  assert.throws(() => a.setState([0, 0, 0, 0]), /all zero/);
  assert.throws(() => a.setState([1, 2, 3]), /4 uint32 words/);
  assert.throws(() => new Rng(0.5), /safe integers/);
  assert.throws(() => a.int(0), /positive integer/);
  assert.notEqual(mixSeed(1, 2), mixSeed(2, 1));
  assert.notEqual(mixSeed(1), mixSeed(1 + 2 ** 32));
  assert.equal(mixSeed(5, 6, 7), mixSeed(5, 6, 7));
});

test('subset copies the chosen samples and keeps mean/std; bad index', () => {
  const ds = synth(10, 2, 3, 3, 4);
  const s = subset(ds, [7, 2, 7]);
  assert.equal(s.length, 3);
  assert.deepEqual([...s.labels], [3, 2, 3]);
  assert.deepEqual([...s.images.subarray(18, 36)], [...ds.images.subarray(2 * 18, 3 * 18)]);
  assert.deepEqual(s.mean, ds.mean);
  s.images[0] = 255 - s.images[0]!;
  assert.notEqual(s.images[0], ds.images[7 * 18]);
  assert.throws(() => subset(ds, [0, 10]), /index 10 \(position 1\) is out of range \[0, 10\)/);
});

test('stratified split: deterministic, disjoint, covering, proportional per class', () => {
  // Unbalanced classes: 0 -> 50, 1 -> 30, 2 -> 20 samples.
  const ds = synth(100, 1, 2, 2, 3, (i) => (i < 50 ? 0 : i < 80 ? 1 : 2));
  const a = splitDataset(ds, 0.1, 7), b = splitDataset(ds, 0.1, 7), c = splitDataset(ds, 0.1, 8);
  assert.deepEqual(a.valIndices, b.valIndices);
  assert.notDeepEqual(a.valIndices, c.valIndices);
  assert.equal(a.val.length, 10);
  assert.equal(a.train.length, 90);
  const all = [...a.trainIndices, ...a.valIndices].sort((x, y) => x - y);
  assert.deepEqual(all, Array.from({ length: 100 }, (_, i) => i));
  const perClass = [0, 0, 0];
  for (const l of a.val.labels) perClass[l]!++;
  assert.deepEqual(perClass, [5, 3, 2]);
  for (let k = 0; k < a.val.length; k++) assert.equal(a.val.labels[k], ds.labels[a.valIndices[k]!]);
  // Largest-remainder rounding still gives round(N*f) in total.
  const odd = synth(7, 1, 1, 1, 3);
  assert.equal(splitDataset(odd, 0.5, 1).val.length, 4);
  assert.equal(splitDataset(ds, 0, 1).val.length, 0);
  assert.throws(() => splitDataset(ds, 1, 1), /valFraction must be in \[0, 1\)/);
});

test('plain split: deterministic, right size', () => {
  const ds = synth(50, 1, 1, 1, 2);
  const a = splitDataset(ds, 0.2, 3, { stratified: false });
  assert.deepEqual(a.valIndices, splitDataset(ds, 0.2, 3, { stratified: false }).valIndices);
  assert.equal(a.val.length, 10);
  assert.equal(new Set([...a.trainIndices, ...a.valIndices]).size, 50);
});

const collect = (it: Iterable<Batch>) => [...it];

test('loader: shuffle is a seeded per-epoch permutation; resume, async and worker threads give the same batches', async () => {
  const ds = synth(23, 1, 4, 4, 5);
  const L = new BatchLoader(ds, { batchSize: 5, seed: 11, cropPadding: 1, hflip: true });
  assert.equal(L.batchesPerEpoch, 5);
  const e0 = collect(L.epoch(0));
  assert.deepEqual(e0.map((b) => b.shape[0]), [5, 5, 5, 5, 3]);
  const order = e0.flatMap((b) => [...b.indices]);
  assert.deepEqual([...order].sort((x, y) => x - y), Array.from({ length: 23 }, (_, i) => i));
  assert.notDeepEqual(order, Array.from({ length: 23 }, (_, i) => i));
  for (const b of e0) for (let k = 0; k < b.y.length; k++) assert.equal(b.y[k], ds.labels[b.indices[k]!]);
  // Same seed, another loader instance: identical batches (order and augmentation).
  const again = collect(new BatchLoader(ds, { batchSize: 5, seed: 11, cropPadding: 1, hflip: true }).epoch(0));
  assert.deepEqual(again, e0);
  // Other epoch / other seed: another order.
  assert.notDeepEqual(collect(L.epoch(1)).flatMap((b) => [...b.indices]), order);
  assert.notDeepEqual(collect(new BatchLoader(ds, { batchSize: 5, seed: 12 }).epoch(0)).flatMap((b) => [...b.indices]), order);
  // Resume mid-epoch.
  assert.deepEqual(collect(L.epoch(0, { startBatch: 3 })), e0.slice(3));
  // The async form, in this thread and from worker threads: the same batches.
  assert.deepEqual(await collectAsync(L.batches(0)), e0);
  assert.deepEqual(await collectAsync(L.batches(0, { workers: 1 })), e0);
  assert.deepEqual(await collectAsync(L.batches(0, { workers: 3, prefetchFactor: 1 })), e0);
  assert.deepEqual(await collectAsync(L.batches(0, { startBatch: 4, workers: 2 })), e0.slice(4));
  assert.deepEqual(await collectAsync(L.batches(0, { startBatch: 5, workers: 2 })), []);
  assert.deepEqual(await collectAsync(L.batches(1, { workers: 2 })), collect(L.epoch(1)));
  assert.throws(() => L.epoch(-1).next(), /epoch must be a non-negative integer/);
});

test('loader workers: shared pixels, early stop, reuse across epochs, close, bad options', async () => {
  const ds = synth(40, 3, 8, 8, 4);
  const L = new BatchLoader(ds, { batchSize: 6, seed: 3, cropPadding: 2, hflip: true, mean: [0.1, 0.2, 0.3], std: [0.5, 0.6, 0.7] });
  const want = collect(L.epoch(2));
  const it = L.batches(2, { workers: 2 })[Symbol.asyncIterator]();
  const first = await it.next();
  assert.deepEqual(first.value, want[0]);
  // The workers read a shared copy of the pixels; this thread's batches are unchanged.
  assert.deepEqual(collect(L.epoch(2)), want);
  // Stopping early (a `break` in for-await) leaves the workers idle, ready for the next epoch.
  assert.deepEqual(await it.return!(), { done: true, value: undefined });
  let seen = 0;
  for await (const b of L.batches(2, { workers: 3 })) { assert.deepEqual(b, want[seen]); if (++seen === 2) break; }
  // Recycled pixel buffers are written again (no new allocation) and the batches stay the same.
  for (const workers of [0, 2]) {
    const copies: Batch[] = [];
    let reused = 0;
    const seenBuffers = new Set<ArrayBufferLike>();
    for await (const b of L.batches(2, { workers })) {
      if (workers === 0 && seenBuffers.has(b.x.buffer)) reused++;
      seenBuffers.add(b.x.buffer);
      copies.push({ ...b, x: b.x.slice() });
      L.recycle(b);
    }
    assert.deepEqual(copies, want, `recycled buffers, workers ${workers}`);
    if (workers === 0) assert.equal(reused, want.length - 2, 'each full-size batch after the first reuses the recycled buffer');
  }
  // The workers outlive an epoch; after close() the next use starts new ones.
  assert.deepEqual(await collectAsync(L.batches(3, { workers: 3 })), collect(L.epoch(3)));
  await L.close();
  assert.deepEqual(await collectAsync(L.batches(2, { workers: 2 })), want);
  await L.close();
  assert.throws(() => L.batches(0, { workers: -1 }), /workers must be a non-negative integer/);
  assert.throws(() => L.batches(0, { workers: 1.5 }), /workers must be a non-negative integer/);
  assert.throws(() => L.batches(0, { workers: 1, prefetchFactor: 0 }), /prefetchFactor must be a positive integer/);
  assert.throws(() => L.batches(-1, { workers: 1 }), /epoch must be a non-negative integer/);
  assert.throws(() => L.batches(0, { startBatch: -2 }), /startBatch must be a non-negative integer/);
});

test("loader workers leave the caller's dataset object untouched; shared pixels are used as they are", async () => {
  const ds = synth(30, 2, 6, 6, 3); // pixels in an ordinary ArrayBuffer
  const before = { ...ds };
  const bytes = ds.images.slice();
  const L = new BatchLoader(ds, { batchSize: 4, seed: 5, cropPadding: 1, hflip: true });
  const want = collect(L.epoch(1));
  assert.deepEqual(await collectAsync(L.batches(1, { workers: 2 })), want);
  assert.deepEqual(await collectAsync(L.batches(1, { workers: 3 })), want, 'a pool of another size');
  await L.close();
  assert.deepEqual(await collectAsync(L.batches(1, { workers: 1 })), want, 'a pool after close()');
  await L.close();
  assert.deepEqual(Object.keys(ds), Object.keys(before));
  for (const k of Object.keys(before) as (keyof ImageDataset)[]) assert.equal(ds[k], before[k], `dataset.${k} was replaced`);
  assert.ok(!(ds.images.buffer instanceof SharedArrayBuffer), "the caller's pixels stay in their own buffer");
  assert.deepEqual(ds.images, bytes);
  // Pixels already in shared memory (every dataset loader's) go to the workers without a copy.
  const shared = { ...ds, images: sharedBytes(ds.images.length) };
  shared.images.set(ds.images);
  const S = new BatchLoader(shared, { batchSize: 4, seed: 5, cropPadding: 1, hflip: true });
  assert.deepEqual(await collectAsync(S.batches(1, { workers: 2 })), want);
  assert.equal((S as unknown as { pool: { sharedImages: Uint8Array } }).pool.sharedImages, shared.images);
  await S.close();
});

test('loader: no shuffle, dropLast, limit, option errors', () => {
  const ds = synth(10, 1, 2, 2, 3);
  const L = new BatchLoader(ds, { batchSize: 4, shuffle: false, dropLast: true, limit: 9 });
  const bs = collect(L.epoch(0));
  assert.equal(L.batchesPerEpoch, 2);
  assert.deepEqual(bs.map((b) => [...b.indices]), [[0, 1, 2, 3], [4, 5, 6, 7]]);
  assert.equal(new BatchLoader(ds, { batchSize: 4, limit: 9 }).batchesPerEpoch, 3);
  assert.equal(new BatchLoader(ds, { batchSize: 4, limit: 100 }).size, 10);
  const lim = collect(new BatchLoader(ds, { batchSize: 3, limit: 5, seed: 2 }).epoch(4)).flatMap((b) => [...b.indices]);
  assert.deepEqual(lim.sort(), [0, 1, 2, 3, 4]);
  assert.throws(() => new BatchLoader(ds, { batchSize: 0 }), /batchSize must be a positive integer/);
  assert.throws(() => new BatchLoader(ds, { batchSize: 2, mean: [0, 0] }), /mean\/std need 1 entries/);
  assert.throws(() => new BatchLoader(ds, { batchSize: 2, cropPadding: -1 }), /cropPadding/);
});

/** Reference: torchvision order pad(0) -> crop at (dy, dx) -> flip -> (v/255 - m)/s, in float32. */
function reference(img: number[][][], p: number, dy: number, dx: number, flip: boolean, mean: number[], std: number[]): number[] {
  const C = img.length, H = img[0]!.length, W = img[0]![0]!.length;
  const out: number[] = [];
  for (let c = 0; c < C; c++) for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) {
    const jj = flip ? W - 1 - j : j;
    const y = i + dy - p, x = jj + dx - p;
    const v = y >= 0 && y < H && x >= 0 && x < W ? img[c]![y]![x]! : 0;
    out.push(Math.fround((v / 255 - mean[c]!) / std[c]!));
  }
  return out;
}

test('loader: normalization, random crop with raw-zero padding, and flip on a tiny known image', () => {
  // One 2x3x4 image with distinct non-zero pixels.
  const img = [0, 1].map((c) => [0, 1, 2].map((i) => [0, 1, 2, 3].map((j) => 10 + 100 * c + 10 * i + j)));
  const ds: ImageDataset = {
    name: 'tiny', numClasses: 1, classNames: ['x'], channels: 2, height: 3, width: 4, length: 1,
    images: Uint8Array.from(img.flat(2)), labels: Int32Array.from([0]), mean: [0.2, 0.4], std: [0.5, 0.25],
  };
  // Plain normalization.
  const plain = collect(new BatchLoader(ds, { batchSize: 1 }).epoch(0))[0]!;
  assert.deepEqual(plain.shape, [1, 2, 3, 4]);
  assert.deepEqual([...plain.x], reference(img, 0, 0, 0, false, ds.mean, ds.std));
  assert.deepEqual([...collect(new BatchLoader(ds, { batchSize: 1, normalize: false }).epoch(0))[0]!.x], img.flat(2).map((v) => Math.fround(v / 255)));
  // Crop p=1 + flip: every epoch's output is one of the 3*3*2 reference variants, and all occur.
  const p = 1;
  const variants = new Map<string, string>();
  for (let dy = 0; dy <= 2 * p; dy++) for (let dx = 0; dx <= 2 * p; dx++) for (const f of [false, true]) {
    variants.set(reference(img, p, dy, dx, f, ds.mean, ds.std).join(','), `${dy},${dx},${f}`);
  }
  assert.equal(variants.size, 18);
  const L = new BatchLoader(ds, { batchSize: 1, seed: 3, cropPadding: p, hflip: true });
  const seen = new Map<string, number>();
  for (let e = 0; e < 400; e++) {
    const x = collect(L.epoch(e))[0]!.x;
    const key = variants.get([...x].join(','));
    assert.ok(key !== undefined, `epoch ${e}: output matches no crop/flip variant: ${[...x]}`);
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  assert.equal(seen.size, 18, `variants seen: ${[...seen.keys()]}`);
  for (const [k, cnt] of seen) assert.ok(cnt > 6 && cnt < 50, `variant ${k} seen ${cnt}/400 times`);
  // Padded pixels hold the normalized value of raw 0, not 0.
  const shifted = reference(img, p, 0, 0, false, ds.mean, ds.std);
  assert.equal(shifted[0], Math.fround((0 - 0.2) / 0.5));
  // Flip only: original or mirrored, both seen.
  const F = new BatchLoader(ds, { batchSize: 1, seed: 9, hflip: true });
  const orig = reference(img, 0, 0, 0, false, ds.mean, ds.std).join(','), mir = reference(img, 0, 0, 0, true, ds.mean, ds.std).join(',');
  const kinds = new Set<string>();
  for (let e = 0; e < 40; e++) {
    const s = [...collect(F.epoch(e))[0]!.x].join(',');
    assert.ok(s === orig || s === mir);
    kinds.add(s);
  }
  assert.equal(kinds.size, 2);
  // Large padding: a crop that is entirely padding is legal.
  const big = new BatchLoader(ds, { batchSize: 1, seed: 0, cropPadding: 5 });
  for (let e = 0; e < 30; e++) assert.equal(collect(big.epoch(e))[0]!.x.length, 24);
});

test('empty data is an error, not NaN: an empty dataset, limit 0, a split leaving no train or no val samples', () => {
  const none = synth(0, 1, 2, 2, 3);
  assert.throws(() => new BatchLoader(none, { batchSize: 4 }), /BatchLoader: dataset 'synth' has no samples/);
  const ds = synth(10, 1, 2, 2, 3);
  assert.throws(() => new BatchLoader(ds, { batchSize: 4, limit: 0 }), /limit 0 leaves no samples of dataset 'synth' \(--limit\)/);
  assert.equal(new BatchLoader(ds, { batchSize: 4, limit: 1 }).size, 1);
  const one = synth(1, 1, 2, 2, 3);
  assert.throws(() => splitDataset(one, 0.5, 0), /valFraction 0\.5 \(--val-fraction\) of the 1 samples of 'synth' leaves no training samples/);
  assert.throws(() => splitDataset(ds, 0.01, 0), /valFraction 0\.01 \(--val-fraction\) of the 10 samples of 'synth' holds out no samples \(round\(10 \* 0\.01\) = 0\)/);
  assert.throws(() => splitDataset(ds, 0.01, 0, { stratified: false }), /holds out no samples/);
  assert.throws(() => splitDataset(none, 0.5, 0), /leaves no training samples/);
  assert.deepEqual([splitDataset(ds, 0.1, 0).val.length, splitDataset(ds, 0, 0).val.length], [1, 0]);
});
