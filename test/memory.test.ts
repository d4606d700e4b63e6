// Native memory stays flat over a long run: 200 training steps of a small CNN with tidy scopes,
// then the live tensor count and the process RSS are compared with their values after warm-up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../src/torch/index.js';
import { F } from '../src/torch/index.js';
import { SGD } from '../src/torch/optim/index.js';
import { createModel } from '../src/models/registry.js';
import { ClassSpecificGate } from '../src/csg/gate.js';
import { gateSparsityPenalty } from '../src/csg/losses.js';

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
