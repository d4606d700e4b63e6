// Times batch preparation (shuffle, random crop with padding, flip, normalize) in the main thread,
// and how much of it worker threads hide behind a step that blocks the main thread.
import { BatchLoader } from '../data/loader.js';
import { sharedBytes, type ImageDataset } from '../data/dataset.js';
import { Rng } from '../data/rng.js';

export interface LoaderBenchOptions {
  /** Image shape C x H x W. */
  input: number[];
  batch: number;
  /** Batches timed per configuration. */
  batches: number;
  cropPadding: number;
  workers: number;
}

export interface LoaderBenchResult {
  impl: 'csgnet'; input: string; batch: number; batches: number; crop_padding: number;
  /** Main thread only (workers 0), no consumer. */
  prep_ms_per_batch: number;
  /** Each batch followed by a step that blocks the main thread for prep_ms_per_batch. */
  blocked_step_ms: number;
  epoch_ms_per_batch_workers0: number;
  epoch_ms_per_batch_workers: number;
  workers: number;
  /** > 1: the workers hid that much of the batch preparation. Ideal 2. */
  overlap_speedup: number;
}

function syntheticDataset(n: number, [c, h, w]: number[]): ImageDataset {
  const rng = new Rng(1);
  const images = sharedBytes(n * c! * h! * w!);
  for (let i = 0; i < images.length; i++) images[i] = rng.nextU32() & 0xff;
  return {
    name: 'synthetic', numClasses: 10, classNames: Array.from({ length: 10 }, (_, k) => `c${k}`), channels: c!, height: h!, width: w!,
    length: n, images, labels: Int32Array.from({ length: n }, (_, i) => i % 10), mean: new Array(c).fill(0.5), std: new Array(c).fill(0.25),
  };
}

/** Stands for a training step: keeps the main thread busy, as a synchronous libtorch call does. */
function blockFor(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

async function timeEpoch(loader: BatchLoader, epoch: number, workers: number, stepMs: number): Promise<number> {
  const t0 = performance.now();
  let n = 0;
  for await (const b of loader.batches(epoch, { workers })) { blockFor(stepMs); n++; loader.recycle(b); } // as the trainer does
  return (performance.now() - t0) / n;
}

export async function benchLoader(o: LoaderBenchOptions): Promise<LoaderBenchResult> {
  const ds = syntheticDataset(o.batch * o.batches, o.input);
  const loader = new BatchLoader(ds, { batchSize: o.batch, seed: 0, cropPadding: o.cropPadding, hflip: true });
  await timeEpoch(loader, 0, 0, 0); // warm-up (JIT)
  await timeEpoch(loader, 0, o.workers, 0); // starts the worker threads, which then stay
  const prep = await timeEpoch(loader, 1, 0, 0);
  const serial = await timeEpoch(loader, 2, 0, prep);
  const overlapped = await timeEpoch(loader, 3, o.workers, prep);
  await loader.close();
  return {
    impl: 'csgnet', input: o.input.join('x'), batch: o.batch, batches: o.batches, crop_padding: o.cropPadding,
    prep_ms_per_batch: prep, blocked_step_ms: prep, epoch_ms_per_batch_workers0: serial, epoch_ms_per_batch_workers: overlapped,
    workers: o.workers, overlap_speedup: serial / overlapped,
  };
}
