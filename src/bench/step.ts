// Times one full training step (forward, cross-entropy, backward, SGD step) like bench/pytorch_step.py.
import * as torch from '../torch/index.js';
import { F } from '../torch/index.js';
import { SGD } from '../torch/optim/index.js';
import { createModel } from '../models/registry.js';

export interface StepBenchOptions {
  model: string; batch: number; input: number[]; steps: number; warmup: number; classes: number; threads: number;
  memoryFormat: 'contiguous_format' | 'channels_last';
}

export interface StepBenchResult {
  impl: 'csgnet'; model: string; batch: number; input: string; steps: number; ms_per_step: number; images_per_s: number;
  threads: number; memory_format: string;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function benchTrainStep(o: StepBenchOptions): StepBenchResult {
  if (o.threads) torch.setNumThreads(o.threads);
  torch.manualSeed(0);
  const [c, h, w] = o.input;
  const model = createModel(o.model, { inChannels: c, numClasses: o.classes, inputSize: h });
  model.train();
  model.to({ memoryFormat: o.memoryFormat });
  const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4 });
  const x = torch.keep(torch.randn([o.batch, c, h, w]).contiguous(o.memoryFormat));
  const y = torch.keep(torch.randint(0, o.classes, [o.batch]));
  const times: number[] = [];
  for (let i = 0; i < o.warmup + o.steps; i++) {
    const t0 = performance.now();
    torch.tidy(() => {
      opt.zeroGrad();
      const loss = F.crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
      loss.item();
    });
    if (i >= o.warmup) times.push(performance.now() - t0);
  }
  x.dispose(); y.dispose();
  const ms = median(times);
  return { impl: 'csgnet', model: o.model, batch: o.batch, input: o.input.join('x'), steps: o.steps, ms_per_step: ms,
    images_per_s: (o.batch * 1000) / ms, threads: torch.getNumThreads(), memory_format: o.memoryFormat === 'channels_last' ? 'channels_last' : 'nchw' };
}
