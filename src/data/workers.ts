// Batches prepared ahead of compute by worker threads (PyTorch's DataLoader num_workers > 0 with
// persistent_workers).
//
// Why threads: a training step blocks the main thread inside libtorch, so a batch can only be
// made in parallel with it on another thread. Each worker rebuilds the BatchLoader from its
// resolved options over the same pixels: the dataset's images live in a SharedArrayBuffer
// (sharedBytes), so they are shared, not copied; the batch's arrays come back as transferred
// buffers. Batches are yielded in order, so the result is exactly loader.epoch(): crops, flips
// and order depend only on (seed, epoch, sample), never on which thread made them.
//
// The workers live as long as the loader (started on first use, reused every epoch, so memory
// stays flat over long runs); they hold the process open only while a batch is being made, so a
// loader nobody closes does not keep node alive.
import { Worker } from 'node:worker_threads';
import type { Batch, BatchLoader } from './loader.js';
import { toShared, type ImageDataset } from './dataset.js';

export interface PrefetchOptions {
  /** Worker threads preparing batches (0 = none: batches are made between steps). */
  workers?: number;
  /** Batches in flight per worker (default 2, like PyTorch). */
  prefetchFactor?: number;
}

/** What the main thread sends a worker, and what it answers. */
export type WorkerRequest = { kind: 'batch'; id: number; epoch: number; batch: number } | { kind: 'recycle'; buffer: ArrayBuffer };
export type WorkerReply = { id: number; result: Batch } | { id: number; error: string };

const WORKER_URL = new URL('./loader_worker.js', import.meta.url);

interface Pending { resolve: (b: Batch) => void; reject: (e: Error) => void }

export class WorkerPool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, Pending>();
  private readonly busy: number[];
  private nextId = 0;
  private nextRecycle = 0;
  /** Set once a worker failed or the pool was closed; a broken pool is replaced by the loader. */
  failure: Error | undefined;

  constructor(dataset: ImageDataset, options: BatchLoader['options'], readonly size: number) {
    const workerData = { dataset, options };
    this.busy = new Array(size).fill(0);
    this.workers = Array.from({ length: size }, (_, k) => {
      const w = new Worker(WORKER_URL, { workerData, name: `csgnet-loader-${k}` });
      w.on('message', (m: WorkerReply) => {
        const p = this.pending.get(m.id);
        if (--this.busy[k]! === 0) w.unref();
        if (!p) return; // answer to a request of an epoch that was left early
        this.pending.delete(m.id);
        if ('error' in m) p.reject(new Error(`loader worker ${k}: ${m.error}`));
        else p.resolve(m.result);
      });
      w.on('error', (e) => this.fail(new Error(`loader worker ${k} failed: ${e.message}`)));
      w.on('exit', (code) => { if (!this.failure) this.fail(new Error(`loader worker ${k} exited (code ${code})`)); });
      w.unref(); // after on('message'), which refs the worker's port again
      return w;
    });
  }

  /** Batch `batch` of `epoch`, made by worker `k`. */
  request(k: number, epoch: number, batch: number): Promise<Batch> {
    const id = this.nextId++;
    const p = new Promise<Batch>((resolve, reject) => {
      if (this.failure) { reject(this.failure); return; }
      this.pending.set(id, { resolve, reject });
    });
    p.catch(() => {}); // a rejection surfaces where the batch is awaited, not as unhandled
    if (!this.failure) {
      const w = this.workers[k]!;
      if (this.busy[k]!++ === 0) w.ref();
      w.postMessage({ kind: 'batch', id, epoch, batch } satisfies WorkerRequest);
    }
    return p;
  }

  /** Sends a used pixel buffer back to a worker (round robin), which writes a later batch into it. */
  recycle(buffer: ArrayBuffer): void {
    if (this.failure) return;
    this.workers[this.nextRecycle++ % this.size]!.postMessage({ kind: 'recycle', buffer } satisfies WorkerRequest, [buffer]);
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }

  async close(): Promise<void> {
    this.fail(new Error('loader workers were closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** The worker pool of a loader, made on first use; the dataset's pixels move to shared memory once. */
export function poolFor(loader: BatchLoader, current: WorkerPool | undefined, size: number): WorkerPool {
  if (current && current.size === size && !current.failure) return current;
  void current?.close();
  const ds = loader.dataset;
  const images = toShared(ds.images);
  if (images !== ds.images) (ds as { images: Uint8Array }).images = images;
  return new WorkerPool({ ...ds, images }, loader.options, size);
}

/** Batches startBatch.. of an epoch, up to pool.size * factor in flight, yielded in order. */
export async function* prefetchEpoch(loader: BatchLoader, pool: WorkerPool, epoch: number, startBatch: number, factor: number): AsyncGenerator<Batch, void, undefined> {
  const nb = loader.batchesPerEpoch;
  const results = new Map<number, Promise<Batch>>();
  let nextToSend = startBatch;
  const send = () => { const b = nextToSend++; results.set(b, pool.request((b - startBatch) % pool.size, epoch, b)); };
  while (nextToSend < nb && nextToSend - startBatch < pool.size * factor) send();
  for (let b = startBatch; b < nb; b++) {
    const batch = await results.get(b)!;
    results.delete(b);
    if (nextToSend < nb) send();
    yield batch;
  }
}
