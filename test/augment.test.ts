// --augment per-batch (the PyTorch reference script's scheme): one crop offset and one flip per batch,
// padding with normalized 0; seeded and resume-safe; per-sample (the default) unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchLoader, type Batch } from '../src/data/loader.js';
import type { ImageDataset } from '../src/data/dataset.js';
import { CIFAR_PRESET, validateConfig } from '../src/csg/config.js';

function synth(n: number, h: number, w: number): ImageDataset {
  const images = new Uint8Array(n * h * w);
  for (let i = 0; i < images.length; i++) images[i] = 1 + ((i * 37 + (i >> 3)) % 250); // no raw 0: padding shows
  return { name: 'synth', numClasses: 2, classNames: ['a', 'b'], channels: 1, height: h, width: w, length: n, images,
    labels: Int32Array.from({ length: n }, (_, i) => i % 2), mean: [0.5], std: [0.25] };
}

/** torchvision-style reference of one image: pad p with `pad`, crop HxW at (dy, dx), flip, normalize. */
function reference(ds: ImageDataset, i: number, p: number, dy: number, dx: number, flip: boolean, pad: number): number[] {
  const H = ds.height, W = ds.width, out: number[] = [];
  for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) {
    const sy = r + dy - p, sx = (flip ? W - 1 - c : c) + dx - p;
    const inside = sy >= 0 && sy < H && sx >= 0 && sx < W;
    out.push(inside ? Math.fround((ds.images[i * H * W + sy * W + sx]! / 255 - 0.5) / 0.25) : pad);
  }
  return out;
}

/** The (dy, dx, flip) each image of a batch was made with, or null when no variant matches. */
function variantsOf(ds: ImageDataset, b: Batch, p: number, pad: number): (string | null)[] {
  const per = ds.height * ds.width;
  return [...b.indices].map((i, k) => {
    const got = [...b.x.subarray(k * per, (k + 1) * per)].join(',');
    for (let dy = 0; dy <= 2 * p; dy++) for (let dx = 0; dx <= 2 * p; dx++) for (const f of [false, true]) {
      if (reference(ds, i, p, dy, dx, f, pad).join(',') === got) return `${dy},${dx},${f}`;
    }
    return null;
  });
}

const collect = (it: Iterable<Batch>) => [...it].map((b) => ({ ...b, x: b.x.slice() }));

test('per-batch: every image of a batch is shifted and flipped alike, padding is normalized 0, all 18 variants occur', () => {
  const ds = synth(40, 5, 6), p = 1;
  const L = new BatchLoader(ds, { batchSize: 8, seed: 4, cropPadding: p, hflip: true, augment: 'per-batch' });
  const seen = new Map<string, number>();
  for (let e = 0; e < 40; e++) {
    for (const b of collect(L.epoch(e))) {
      const v = variantsOf(ds, b, p, 0);
      assert.ok(v.every((s) => s !== null), `epoch ${e}: an image matches no crop/flip variant`);
      assert.equal(new Set(v).size, 1, `epoch ${e}: images of one batch were augmented differently: ${v}`);
      seen.set(v[0]!, (seen.get(v[0]!) ?? 0) + 1);
    }
  }
  assert.equal(seen.size, 18, `variants seen: ${[...seen.keys()]}`);
  for (const [k, n] of seen) assert.ok(n > 3 && n < 30, `variant ${k} seen ${n}/200 times`);
});

test('per-sample (the default) gives images of one batch different offsets, padding raw 0', () => {
  const ds = synth(40, 5, 6), p = 1, rawZero = Math.fround((0 - 0.5) / 0.25);
  const def = collect(new BatchLoader(ds, { batchSize: 8, seed: 4, cropPadding: p, hflip: true }).epoch(0));
  const explicit = collect(new BatchLoader(ds, { batchSize: 8, seed: 4, cropPadding: p, hflip: true, augment: 'per-sample' }).epoch(0));
  assert.deepEqual(explicit, def);
  const v = variantsOf(ds, def[0]!, p, rawZero);
  assert.ok(v.every((s) => s !== null));
  assert.ok(new Set(v).size > 1, `per-sample: 8 images, one variant: ${v}`);
});

test('per-batch: same seed same batches, another seed others; resuming at batch b or using workers gives the same batches', async () => {
  const ds = synth(50, 6, 6);
  const opts = { batchSize: 7, seed: 9, cropPadding: 2, hflip: true, augment: 'per-batch' as const };
  const a = collect(new BatchLoader(ds, opts).epoch(3));
  assert.deepEqual(collect(new BatchLoader(ds, opts).epoch(3)), a);
  assert.notDeepEqual(collect(new BatchLoader(ds, { ...opts, seed: 10 }).epoch(3)).map((b) => b.x), a.map((b) => b.x));
  assert.deepEqual(collect(new BatchLoader(ds, opts).epoch(3, { startBatch: 4 })), a.slice(4));
  const W = new BatchLoader(ds, opts);
  const viaWorkers: Batch[] = [];
  for await (const b of W.batches(3, { workers: 2 })) viaWorkers.push({ ...b, x: b.x.slice() });
  await W.close();
  assert.deepEqual(viaWorkers.map((b) => [...b.x]), a.map((b) => [...b.x]));
});

test('augment is a validated, recorded config key; a bad value is named', () => {
  assert.equal(CIFAR_PRESET.augment, 'per-sample');
  validateConfig({ ...structuredClone(CIFAR_PRESET), augment: 'per-batch' });
  assert.throws(() => validateConfig({ ...structuredClone(CIFAR_PRESET), augment: 'sometimes' as any }), /invalid configuration: augment must be per-sample or per-batch, got "sometimes"/);
  assert.throws(() => new BatchLoader(synth(4, 2, 2), { batchSize: 2, augment: 'x' as any }), /augment must be per-sample or per-batch.*--augment/);
});

test('train --augment per-batch writes it to config.json and resume keeps it', async () => {
  const { Trainer } = await import('../src/csg/trainer.js');
  const tmp = mkdtempSync(join(tmpdir(), 'csgnet-augment-'));
  try {
    const dir = join(tmp, 'run');
    const c = { ...structuredClone(CIFAR_PRESET), model: 'lenet', strategy: 'std' as const, epochs: 2, batchSize: 64, limit: 128, valLimit: 64, threads: 1, augment: 'per-batch' as const };
    const t = await Trainer.create(c, { outDir: dir, log: () => {} });
    await t.run({ stopAfterEpochs: 1 });
    assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).train.augment, 'per-batch');
    const r = await Trainer.resume({ outDir: dir, log: () => {} });
    assert.equal(r.config.augment, 'per-batch');
    r.close();
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
