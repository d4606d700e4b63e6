// Worker thread of workers.ts: rebuilds the BatchLoader over the shared pixels and makes the
// batches it is asked for. Loads no native code (the addon stays in the main thread).
import { parentPort, workerData } from 'node:worker_threads';
import { BatchLoader } from './loader.js';
import type { ResolvedLoaderOptions } from './batch.js';
import type { ImageDataset } from './dataset.js';
import type { WorkerReply, WorkerRequest } from './workers.js';

const { dataset, options } = workerData as { dataset: ImageDataset; options: ResolvedLoaderOptions };
const loader = new BatchLoader(dataset, options);
let orderEpoch = -1;
let order: Int32Array = new Int32Array(0);
const spare: Float32Array[] = []; // pixel buffers the main thread is done with

parentPort!.on('message', (m: WorkerRequest) => {
  if (m.kind === 'recycle') { if (spare.length < 4) spare.push(new Float32Array(m.buffer)); return; }
  const { id, epoch, batch } = m;
  let reply: WorkerReply;
  let transfer: ArrayBuffer[] = [];
  try {
    if (epoch !== orderEpoch) { order = loader.order(epoch); orderEpoch = epoch; }
    const result = loader.makeBatch(order, epoch, batch, spare.pop());
    reply = { id, result };
    transfer = [result.x.buffer as ArrayBuffer, result.y.buffer as ArrayBuffer, result.indices.buffer as ArrayBuffer];
  } catch (e) {
    reply = { id, error: (e as Error).message };
  }
  parentPort!.postMessage(reply, transfer);
});
