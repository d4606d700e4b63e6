// PGD-Linf images per second on ResNet-20 in eval mode (28 x 28 grey inputs, 40 steps of eps/10: the
// grey-data default), the same attack bench/pytorch_pgd.py times in PyTorch. Random weights and images:
// the cost of an attack step does not depend on them.
import * as torch from '../torch/index.js';
import { createModel } from '../models/registry.js';
import { PixelModel, createAttack } from '../attack/index.js';
import { disposeBatches, randomBatches, secondsAfterWarmup } from './timing.js';

export interface AttackBenchOptions { images: number; batch: number; steps: number; eps: number; input: number[]; threads?: number }
export interface AttackBenchResult { impl: 'csgnet'; bench: 'attack'; attack: 'pgd'; steps: number; images: number; batch: number; input: string; threads: number; images_per_s: number }

export function benchAttack(o: AttackBenchOptions): AttackBenchResult {
  if (o.threads) torch.setNumThreads(o.threads);
  const [c, h, w] = o.input;
  torch.manualSeed(0);
  const backbone = createModel('resnet20', { inChannels: c, numClasses: 10, inputSize: h });
  backbone.to({ memoryFormat: 'channels_last' });
  backbone.eval();
  for (const p of backbone.parameters()) p.requiresGrad_(false);
  const model = new PixelModel(backbone, Array(c).fill(0.286), Array(c).fill(0.353));
  const pgd = createAttack('pgd', model, { eps: o.eps, steps: o.steps, stepSize: o.eps / 10, seed: 0 });
  const batches = randomBatches(o.images, o.batch, [c, h, w]);
  const s = secondsAfterWarmup(() => { for (const b of batches) pgd.perturb(b.x, b.y).dispose(); });
  disposeBatches(batches);
  model.dispose();
  return { impl: 'csgnet', bench: 'attack', attack: 'pgd', steps: o.steps, images: o.images, batch: o.batch, input: o.input.join('x'),
    threads: torch.getNumThreads(), images_per_s: o.images / s };
}
