// PGD-Linf images per second on ResNet-20 in eval mode (28 x 28 grey inputs, 40 steps of eps/10: the
// grey-data default), the same attack bench/pytorch_pgd.py times in PyTorch. Random weights and images:
// the cost of an attack step does not depend on them. benchApgd: APGD-CE (Linf, torchattacks' defaults but
// eps) on the same model, against torchattacks' own APGD (bench/torchattacks_apgd.py); labels are the model's
// predictions, so every image is attacked in both.
import { performance } from 'node:perf_hooks';
import * as torch from '../torch/index.js';
import { createModel } from '../models/registry.js';
import { PixelModel, createAttack } from '../attack/index.js';
import { disposeBatches, randomBatches, secondsAfterWarmup } from './timing.js';

export interface AttackBenchOptions { images: number; batch: number; steps: number; eps: number; input: number[]; threads?: number }
export interface AttackBenchResult { impl: 'csgnet'; bench: 'attack'; attack: 'pgd'; steps: number; images: number; batch: number; input: string; threads: number; images_per_s: number }

/** ResNet-20 in eval mode, frozen, channels_last, in pixel space. */
function benchModel(c: number, h: number): PixelModel {
  torch.manualSeed(0);
  const backbone = createModel('resnet20', { inChannels: c, numClasses: 10, inputSize: h });
  backbone.to({ memoryFormat: 'channels_last' });
  backbone.eval();
  for (const p of backbone.parameters()) p.requiresGrad_(false);
  return new PixelModel(backbone, Array(c).fill(0.286), Array(c).fill(0.353));
}

export function benchAttack(o: AttackBenchOptions): AttackBenchResult {
  if (o.threads) torch.setNumThreads(o.threads);
  const [c, h, w] = o.input;
  const model = benchModel(c!, h!);
  const pgd = createAttack('pgd', model, { eps: o.eps, steps: o.steps, stepSize: o.eps / 10, seed: 0 });
  const batches = randomBatches(o.images, o.batch, [c, h, w]);
  const s = secondsAfterWarmup(() => { for (const b of batches) pgd.perturb(b.x, b.y).dispose(); });
  disposeBatches(batches);
  model.dispose();
  return { impl: 'csgnet', bench: 'attack', attack: 'pgd', steps: o.steps, images: o.images, batch: o.batch, input: o.input.join('x'),
    threads: torch.getNumThreads(), images_per_s: o.images / s };
}

export interface ApgdBenchResult { impl: 'csgnet'; bench: 'apgd'; steps: number; images: number; batch: number; input: string; threads: number; images_per_s: number; queries_per_image: number }

export function benchApgd(o: AttackBenchOptions): ApgdBenchResult {
  if (o.threads) torch.setNumThreads(o.threads);
  const [c, h, w] = o.input;
  const model = benchModel(c!, h!);
  const apgd = createAttack('apgd-ce', model, { eps: o.eps, steps: o.steps, seed: 0 });
  const batches: { x: torch.Tensor; y: torch.Tensor }[] = [];
  for (let i = 0; i < o.images; i += o.batch) {
    const x = torch.keep(torch.rand([Math.min(o.batch, o.images - i), c!, h!, w!]));
    batches.push({ x, y: torch.keep(model.predict(x)) });
  }
  const run = () => { for (const b of batches) apgd.perturb(b.x, b.y).dispose(); };
  run(); // warm-up
  const t0 = performance.now();
  let queries = 0;
  for (const b of batches) { apgd.perturb(b.x, b.y).dispose(); queries += apgd.queries; }
  const s = (performance.now() - t0) / 1000;
  for (const b of batches) { b.x.dispose(); b.y.dispose(); }
  model.dispose();
  return { impl: 'csgnet', bench: 'apgd', steps: o.steps, images: o.images, batch: o.batch, input: o.input.join('x'), threads: torch.getNumThreads(),
    images_per_s: o.images / s, queries_per_image: queries / o.images };
}
