// Score-CAM and LayerCAM maps per second (ResNet-20 in eval mode at its default target layer, random weights
// and images: the cost does not depend on them), the same maps bench/pytorch_cam.py times with
// pytorch-grad-cam's own ScoreCAM and LayerCAM on PyTorch. Score-CAM runs batchSize masked copies per
// forward in both (pytorch-grad-cam's ScoreCAM.batch_size).
import * as torch from '../torch/index.js';
import { createModel } from '../models/registry.js';
import { LayerCam, ScoreCam, type Explainer } from '../explain/index.js';
import { disposeBatches, randomBatches, secondsAfterWarmup } from './timing.js';

export interface CamBenchOptions { method: 'scorecam' | 'layercam'; images: number; batch: number; scoreBatch: number; input: number[]; threads?: number }
export interface CamBenchResult { impl: 'csgnet'; bench: 'cam'; method: string; images: number; batch: number; score_batch: number; input: string; threads: number; maps_per_s: number }

export function benchCam(o: CamBenchOptions): CamBenchResult {
  if (o.threads) torch.setNumThreads(o.threads);
  const [c, h, w] = o.input as [number, number, number];
  torch.manualSeed(0);
  const model = createModel('resnet20', { inChannels: c, numClasses: 10, inputSize: h }).eval();
  const ex: Explainer = o.method === 'scorecam' ? new ScoreCam(model, { batchSize: o.scoreBatch }) : new LayerCam(model);
  const batches = randomBatches(o.images, o.batch, [c, h, w], { normal: true });
  const s = secondsAfterWarmup(() => { for (const b of batches) { const e = ex.explain(b.x, b.y); e.maps.dispose(); e.targets.dispose(); } });
  disposeBatches(batches);
  model.dispose();
  return { impl: 'csgnet', bench: 'cam', method: o.method, images: o.images, batch: o.batch, score_batch: o.scoreBatch, input: o.input.join('x'),
    threads: torch.getNumThreads(), maps_per_s: o.images / s };
}
