// Native memory stays flat over a long run: 200 training steps of a small CNN with tidy scopes,
// then the live tensor count and the process RSS are compared with their values after warm-up;
// and 200 epochs of batches made by loader worker threads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../src/torch/index.js';
import { F } from '../src/torch/index.js';
import { SGD } from '../src/torch/optim/index.js';
import { createModel } from '../src/models/registry.js';
import { ClassSpecificGate } from '../src/csg/gate.js';
import { gateSparsityPenalty } from '../src/csg/losses.js';
import { BatchLoader } from '../src/data/loader.js';

test('200 CSG training steps keep live tensors and RSS flat', () => {
  torch.manualSeed(0);
  const model = createModel('resnet20', { inChannels: 1, numClasses: 10, inputSize: 16 });
  const gate = new ClassSpecificGate(model.numFilters, 10);
  const opt = new SGD([...model.parameters()], { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-4 });
  const gateOpt = new SGD([gate.weight], { lr: 0.1, momentum: 0.9 });
  const x = torch.keep(torch.randn([16, 1, 16, 16]));
  const y = torch.keep(torch.randint(0, 10, [16]));
  const step = (csg: boolean) => torch.tidy(() => {
    opt.zeroGrad(); gateOpt.zeroGrad();
    const feats = model.features(x);
    const logits = model.head(csg ? gate.apply(feats, y) : feats);
    const loss = csg ? F.crossEntropy(logits, y).add(gateSparsityPenalty(gate.weight, 0.1, 0.1)) : F.crossEntropy(logits, y);
    loss.backward();
    opt.step();
    if (csg) { gateOpt.step(); gate.project_(); }
    return loss.item();
  });
  for (let i = 0; i < 20; i++) step(i % 3 === 2);
  global.gc?.();
  const liveAfterWarmup = torch.liveTensors();
  const rssAfterWarmup = process.memoryUsage().rss;
  let last = 0;
  for (let i = 0; i < 200; i++) last = step(i % 3 === 2);
  global.gc?.();
  const liveEnd = torch.liveTensors();
  const rssEnd = process.memoryUsage().rss;
  assert.ok(Number.isFinite(last));
  assert.equal(liveEnd, liveAfterWarmup, `live tensors grew from ${liveAfterWarmup} to ${liveEnd}`);
  const growthMiB = (rssEnd - rssAfterWarmup) / 2 ** 20;
  // One step's activations are ~2 MiB here; 200 leaked steps would add hundreds of MiB.
  assert.ok(growthMiB < 40, `RSS grew by ${growthMiB.toFixed(1)} MiB over 200 steps`);
  x.dispose(); y.dispose();
});

test('loader worker threads: 200 epochs keep RSS flat (workers are reused, batches transferred)', async () => {
  const n = 1024, per = 784;
  const images = new Uint8Array(n * per);
  for (let i = 0; i < images.length; i++) images[i] = (i * 7) & 0xff;
  const ds = { name: 'synth', numClasses: 10, classNames: Array.from({ length: 10 }, (_, k) => `c${k}`), channels: 1, height: 28, width: 28,
    length: n, images, labels: Int32Array.from({ length: n }, (_, i) => i % 10), mean: [0.5], std: [0.25] };
  const loader = new BatchLoader(ds, { batchSize: 128, cropPadding: 2, hflip: true });
  // Each epoch moves 8 batches of 400 KiB from the workers; a leak of them would add ~640 MiB.
  const epoch = async (e: number) => { let sum = 0; for await (const b of loader.batches(e, { workers: 2 })) sum += b.x[0]!; return sum; };
  for (let e = 0; e < 50; e++) await epoch(e);
  global.gc?.();
  const rssAfterWarmup = process.memoryUsage().rss;
  for (let e = 50; e < 250; e++) assert.ok(Number.isFinite(await epoch(e)));
  global.gc?.();
  const growthMiB = (process.memoryUsage().rss - rssAfterWarmup) / 2 ** 20;
  await loader.close();
  assert.ok(growthMiB < 40, `RSS grew by ${growthMiB.toFixed(1)} MiB over 200 epochs`);
});

test('the CPU block cache: freed blocks are kept for reuse, emptyCache frees them, a cap of 0 keeps none', { skip: process.env.CSGNET_DEFAULT_ALLOCATOR ? 'libtorch\'s own allocator' : false }, () => {
  const mib = 1 << 20;
  torch.emptyCache();
  assert.equal(torch.cachedBytes(), 0);
  torch.zeros([mib / 4]).dispose(); // 1 MiB of float32, freed
  assert.ok(torch.cachedBytes() >= mib, `after freeing 1 MiB the cache holds ${torch.cachedBytes()} bytes`);
  torch.emptyCache();
  assert.equal(torch.cachedBytes(), 0);
  try {
    torch.setCacheLimit(0);
    torch.zeros([mib / 4]).dispose();
    assert.equal(torch.cachedBytes(), 0, 'a cap of 0 keeps nothing');
  } finally {
    torch.setCacheLimit(torch.DEFAULT_CPU_CACHE_BYTES);
  }
  assert.throws(() => torch.setCacheLimit(-1), /setCacheLimit: bytes must be a non-negative integer, got -1/);
});
