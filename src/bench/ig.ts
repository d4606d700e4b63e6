// Integrated Gradients maps per second (32 steps, riemann_trapezoid, passes of 512 images) on ResNet-20 in
// eval mode, the maps bench/captum_ig.py times with Captum itself. Random weights and images: the cost does
// not depend on them.
import { performance } from 'node:perf_hooks';
import * as torch from '../torch/index.js';
import { createModel } from '../models/registry.js';
import { IntegratedGradients } from '../explain/index.js';

export interface IgBenchOptions { images: number; batch: number; steps: number; internalBatch: number; input: number[]; threads?: number }
export interface IgBenchResult { impl: 'csgnet'; bench: 'ig'; steps: number; images: number; batch: number; input: string; threads: number; maps_per_s: number }

export function benchIg(o: IgBenchOptions): IgBenchResult {
  if (o.threads) torch.setNumThreads(o.threads);
  const [c, h] = o.input;
  torch.manualSeed(0);
  const model = createModel('resnet20', { inChannels: c!, numClasses: 10, inputSize: h });
  model.to({ memoryFormat: 'channels_last' });
  model.eval();
  const ig = new IntegratedGradients(model, { steps: o.steps, internalBatch: o.internalBatch });
  const batches: { x: torch.Tensor; y: torch.Tensor }[] = [];
  for (let i = 0; i < o.images; i += o.batch) {
    const n = Math.min(o.batch, o.images - i);
    batches.push({ x: torch.keep(torch.randn([n, ...o.input]).contiguous('channels_last')), y: torch.keep(torch.randint(0, 10, [n])) });
  }
  const run = () => { for (const b of batches) { const e = ig.explain(b.x, b.y); e.maps.dispose(); e.targets.dispose(); } };
  run(); // warm-up
  const t0 = performance.now();
  run();
  const s = (performance.now() - t0) / 1000;
  for (const b of batches) { b.x.dispose(); b.y.dispose(); }
  return { impl: 'csgnet', bench: 'ig', steps: o.steps, images: o.images, batch: o.batch, input: o.input.join('x'), threads: torch.getNumThreads(), maps_per_s: o.images / s };
}
