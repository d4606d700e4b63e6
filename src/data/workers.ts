// Batches prepared ahead of compute by worker threads (PyTorch's DataLoader num_workers > 0 with
// persistent_workers).
//
// Why threads: a training step blocks the main thread inside libtorch, so a batch can only be
// made in parallel with it on another thread. Each worker rebuilds the BatchLoader from its
// resolved options over the same pixels in shared memory: the dataset's own images when they
// already live in a SharedArrayBuffer (every dataset loader allocates them with sharedBytes), else
// one shared copy per pool; the caller's dataset is never modified. The batch's arrays come back
// as transferred buffers. Batches are yielded in order, so the result is exactly loader.epoch():
// crops, flips and order depend only on (seed, epoch, sample), never on which thread made them.
//
// The workers live as long as the loader (started on first use, reused every epoch, so memory
// stays flat over long runs); they hold the process open only while a batch is being made, so a
// loader nobody closes does not keep node alive.
import { Worker } from 'node:worker_threads';
import type { Batch, BatchSource, ResolvedLoaderOptions } from './batch.js';
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
  /** The caller's pixels this pool was made for (never modified), and what the workers read. */
  readonly source: Uint8Array;
  readonly sharedImages: Uint8Array;

  /**
   * Starts `size` workers over `dataset`. Pixels not yet in shared memory are copied there (a
   * snapshot: later writes to `dataset.images` do not reach the workers), or taken over from
   * `previous` when that pool was made for the same array.
   */
  constructor(dataset: ImageDataset, options: ResolvedLoaderOptions, readonly size: number, previous?: WorkerPool) {
    this.source = dataset.images;
    this.sharedImages = previous?.source === dataset.images ? previous.sharedImages : toShared(dataset.images);
    const workerData = { dataset: { ...dataset, images: this.sharedImages }, options };
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

/** The worker pool of a loader: `current` while it fits, else a new one (reusing its shared pixels). */
export function poolFor(loader: BatchSource, current: WorkerPool | undefined, size: number): WorkerPool {
  if (current && current.size === size && !current.failure) return current;
  void current?.close();
  return new WorkerPool(loader.dataset, loader.options, size, current);
}

/** Batches startBatch.. of an epoch, up to pool.size * factor in flight, yielded in order. */
export async function* prefetchEpoch(loader: BatchSource, pool: WorkerPool, epoch: number, startBatch: number, factor: number): AsyncGenerator<Batch, void, undefined> {
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
