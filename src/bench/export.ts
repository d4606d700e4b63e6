// `npm run bench export`: images per second of ResNet-20 (1x28x28, eval mode) through csgnet's own
// forward and through ONNX Runtime (node, CPU) on the exported file, batch 1 and 128. Random weights
// and images: the cost does not depend on them. Same thread count for both.
import { performance } from 'node:perf_hooks';
import type * as Ort from 'onnxruntime-node';
import * as torch from '../torch/index.js';
import { createModel } from '../models/registry.js';
import { exportOnnx } from '../export/index.js';
import { importOptional } from '../util/optional.js';

export interface ExportBenchOptions { batches?: number[]; images?: number; threads?: number; model?: string; input?: [number, number, number] }
export interface ExportBenchResult {
  bench: 'export'; model: string; input: string; batch: number; images: number; threads: number;
  csgnet_images_per_s: number; onnxruntime_images_per_s: number;
  /** > 1: ONNX Runtime is faster than csgnet's forward. */
  onnxruntime_speedup: number;
}

/** Seconds for `images` images in batches of `batch` (after one warm-up batch). */
async function time(batch: number, images: number, step: () => Promise<void> | void): Promise<number> {
  await step();
  const t0 = performance.now();
  for (let done = 0; done < images; done += batch) await step();
  return (performance.now() - t0) / 1000;
}

export async function benchExport(o: ExportBenchOptions = {}): Promise<ExportBenchResult[]> {
  if (o.threads) torch.setNumThreads(o.threads);
  const threads = torch.getNumThreads();
  const name = o.model ?? 'resnet20';
  const input = o.input ?? [1, 28, 28];
  torch.manualSeed(0);
  const model = createModel(name, { inChannels: input[0], numClasses: 10, inputSize: input[1] });
  model.to({ memoryFormat: 'channels_last' });
  model.eval();
  const ort = await importOptional<typeof Ort>('onnxruntime-node', 'npm run bench export');
  const session = await ort.InferenceSession.create(exportOnnx(model, { inputShape: input, outputs: ['logits'] }),
    { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const results: ExportBenchResult[] = [];
  try {
    for (const batch of o.batches ?? [1, 128]) {
      const images = Math.max(batch, Math.ceil((o.images ?? (batch === 1 ? 500 : 2048)) / batch) * batch);
      const x = torch.keep(torch.randn([batch, ...input]));
      const xc = torch.keep(x.contiguous('channels_last'));
      const feed = { input: new ort.Tensor('float32', x.data() as Float32Array, [batch, ...input]) };
      try {
        const ours = await time(batch, images, () => torch.tidy(() => torch.noGrad(() => { model.forward(xc).data(); })));
        const theirs = await time(batch, images, async () => { await session.run(feed); });
        results.push({ bench: 'export', model: name, input: input.join('x'), batch, images, threads,
          csgnet_images_per_s: images / ours, onnxruntime_images_per_s: images / theirs, onnxruntime_speedup: ours / theirs });
      } finally { x.dispose(); xc.dispose(); }
    }
  } finally {
    await session.release();
    model.dispose();
  }
  return results;
}
