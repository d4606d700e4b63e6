// Localization maps per second for each explainer on cluttered Fashion-MNIST test images (64 x 64,
// ResNet-20 at its initialization: the cost does not depend on the weights), and GradMap's cost per
// image (30 filters per class; one backward per filter per class group of a batch).
import { performance } from 'node:perf_hooks';
import * as torch from '../torch/index.js';
import { createModel } from '../models/registry.js';
import { BatchLoader, loadDataset } from '../data/index.js';
import { ActivMap, Cam, CsgCam, FilterClassStats, GradCam, GradCamPlusPlus, GradMap, type Explainer } from '../explain/index.js';

export interface LocalizeBenchResult { bench: 'localize'; method: string; images: number; batch: number; threads: number; maps_per_s: number; ms_per_image: number }

export async function benchLocalize(o: { images?: number; batch?: number } = {}): Promise<LocalizeBenchResult[]> {
  const n = o.images ?? 256, batch = o.batch ?? 64;
  const ds = await loadDataset('cluttered-fashion-mnist', { split: 'test' });
  torch.manualSeed(0);
  const model = createModel('resnet20', { inChannels: ds.channels, numClasses: ds.numClasses, inputSize: ds.height });
  model.to({ memoryFormat: 'channels_last' });
  model.eval();
  const batches = [...new BatchLoader(ds, { batchSize: batch, shuffle: false, limit: n }).epoch(0)].map((b) => ({
    x: torch.keep(torch.fromTypedArray(b.x, b.shape).contiguous('channels_last')),
    labels: torch.keep(torch.fromTypedArray(b.y, [b.y.length], { dtype: 'int64' })),
  }));
  const stats = FilterClassStats.of(model, batches);
  const explainers: Explainer[] = [new Cam(model), new GradCam(model), new GradCamPlusPlus(model), new CsgCam(model, stats.assignmentGate()),
    new ActivMap(model), new GradMap(model, stats.topFilters(30))];
  const out: LocalizeBenchResult[] = [];
  for (const ex of explainers) {
    const run = () => { for (const b of batches) { const e = ex.explain(b.x, b.labels); e.maps.dispose(); e.targets.dispose(); e.filters?.dispose(); } };
    run(); // warm-up
    const t0 = performance.now();
    run();
    const s = (performance.now() - t0) / 1000;
    out.push({ bench: 'localize', method: ex.name, images: n, batch, threads: torch.getNumThreads(), maps_per_s: n / s, ms_per_image: (1000 * s) / n });
  }
  for (const b of batches) { b.x.dispose(); b.labels.dispose(); }
  return out;
}
