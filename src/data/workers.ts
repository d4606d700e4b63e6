// Batches prepared ahead of compute by worker threads (PyTorch's DataLoader num_workers > 0).
//
// Why threads: a training step blocks the main thread inside libtorch, so a batch can only be
// made in parallel with it on another thread. Each worker rebuilds the BatchLoader from its
// resolved options over the same pixels: the dataset's images live in a SharedArrayBuffer
// (sharedBytes), so they are shared, not copied; the batch's Float32Array comes back as a
// transferred buffer. Batch b goes to worker (b - start) % N and batches are yielded in order,
// so the result is exactly loader.epoch(): crops, flips and order depend only on
// (seed, epoch, sample), never on which thread made them.
import { Worker } from 'node:worker_threads';
import type { Batch, BatchLoader, EpochOptions } from './loader.js';
import { toShared } from './dataset.js';

export interface PrefetchOptions {
  /** Worker threads preparing batches (0 = none: batches are made between steps). */
  workers?: number;
  /** Batches in flight per worker (default 2, like PyTorch). */
  prefetchFactor?: number;
}

/** What the main thread sends a worker, and what it answers. */
export interface WorkerRequest { epoch: number; batch: number }
export type WorkerReply = { batch: number; result: Batch } | { batch: number; error: string };

const WORKER_URL = new URL('./loader_worker.js', import.meta.url);

interface Pending { resolve: (b: Batch) => void; reject: (e: Error) => void }

export async function* prefetchEpoch(loader: BatchLoader, epoch: number, opts: EpochOptions & PrefetchOptions): AsyncGenerator<Batch, void, undefined> {
  const startBatch = opts.startBatch ?? 0;
  const nWorkers = opts.workers ?? 1;
  const factor = opts.prefetchFactor ?? 2;
  if (!Number.isInteger(startBatch) || startBatch < 0) throw new Error(`BatchLoader: startBatch must be a non-negative integer, got ${startBatch}`);
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new Error(`BatchLoader: epoch must be a non-negative integer, got ${epoch}`);
  if (!Number.isInteger(nWorkers) || nWorkers < 1) throw new Error(`BatchLoader: workers must be a positive integer, got ${nWorkers}`);
  if (!Number.isInteger(factor) || factor < 1) throw new Error(`BatchLoader: prefetchFactor must be a positive integer, got ${factor}`);
  const nb = loader.batchesPerEpoch;
  if (startBatch >= nb) return;

  const ds = loader.dataset;
  // Share the pixels with the workers; a dataset built outside the loaders is copied once.
  const images = toShared(ds.images);
  if (images !== ds.images) (ds as { images: Uint8Array }).images = images;
  const workerData = { dataset: { ...ds, images }, options: loader.options };
  const pending = new Map<number, Pending>();
  const results = new Map<number, Promise<Batch>>();
  let failure: Error | undefined;
  const failAll = (e: Error) => {
    failure ??= e;
    for (const p of pending.values()) p.reject(failure);
    pending.clear();
  };
  const workers = Array.from({ length: Math.min(nWorkers, nb - startBatch) }, (_, k) => {
    const w = new Worker(WORKER_URL, { workerData, name: `csgnet-loader-${k}` });
    w.on('message', (m: WorkerReply) => {
      const p = pending.get(m.batch);
      if (!p) return;
      pending.delete(m.batch);
      if ('error' in m) p.reject(new Error(`loader worker ${k}: ${m.error}`));
      else p.resolve(m.result);
    });
    w.on('error', (e) => failAll(new Error(`loader worker ${k} failed: ${e.message}`)));
    w.on('exit', (code) => { if (pending.size > 0) failAll(new Error(`loader worker ${k} exited (code ${code}) with batches pending`)); });
    return w;
  });
  let nextToSend = startBatch;
  const send = () => {
    const b = nextToSend++;
    const p = new Promise<Batch>((resolve, reject) => {
      if (failure) { reject(failure); return; }
      pending.set(b, { resolve, reject });
    });
    p.catch(() => {}); // rejections surface when the batch is awaited, not as unhandled
    results.set(b, p);
    workers[(b - startBatch) % workers.length]!.postMessage({ epoch, batch: b } satisfies WorkerRequest);
  };
  try {
    while (nextToSend < nb && nextToSend - startBatch < workers.length * factor) send();
    for (let b = startBatch; b < nb; b++) {
      const batch = await results.get(b)!;
      results.delete(b);
      if (nextToSend < nb) send();
      yield batch;
    }
  } finally {
    pending.clear();
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
