// The one-vs-rest MI matrix spread over worker threads (worker.ts), identical to `miMatrix`.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { checkShape, type FeatureArray } from './prepare.js';
import { nNeighborsOf } from './estimator.js';
import { checkLabels, miMatrix, normalizeColumnsInPlace, type MiMatrixOptions } from './one_vs_rest.js';
import type { MiWorkerData } from './worker.js';

const WORKER_URL = new URL('./worker.js', import.meta.url);

/**
 * As `miMatrix`, spreading the features over `opts.workers` worker threads (default: available cores, at
 * most 8, and none for fewer than 2^21 feature values). Each thread scales, noises (replaying the one noise
 * stream, evaluating only its own values), sorts and scores a contiguous block of features, so the result
 * is identical to `miMatrix`. Balanced sampling runs on this thread.
 */
export async function miMatrixAsync(features: FeatureArray, n: number, k: number, labels: ArrayLike<number>, numClasses: number, opts: MiMatrixOptions = {}): Promise<Float64Array> {
  // by default, small problems stay on this thread (starting workers costs more than they save)
  const auto = opts.workers === undefined;
  const workers = Math.max(1, Math.min(opts.workers ?? Math.min(8, availableParallelism()), k));
  if (workers === 1 || opts.balanceNegatives || (auto && n * k < 1 << 21)) return miMatrix(features, n, k, labels, numClasses, opts);
  checkShape(features, n, k);
  const lab = checkLabels(labels, n, numClasses);
  const nn = nNeighborsOf(opts);
  const seed = opts.randomState === undefined ? 0 : opts.randomState ?? Math.floor(Math.random() * 0x100000000);
  const shared = features instanceof Float32Array
    ? new Float32Array(new SharedArrayBuffer(features.byteLength))
    : new Float64Array(new SharedArrayBuffer(features.byteLength));
  shared.set(features);
  const out = new Float64Array(new SharedArrayBuffer(numClasses * k * 8));
  const labShared = new Int32Array(new SharedArrayBuffer(n * 4));
  labShared.set(lab);
  const jobs: Promise<void>[] = [];
  for (let w = 0; w < workers; w++) {
    const j0 = Math.floor((w * k) / workers), j1 = Math.floor(((w + 1) * k) / workers);
    jobs.push(
      new Promise<void>((resolve, reject) => {
        const data: MiWorkerData = { csgnetMiWorker: true, features: shared, out, lab: labShared, n, k, numClasses, nn, seed, j0, j1 };
        const worker = new Worker(WORKER_URL, { workerData: data });
        worker.once('error', reject);
        worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`mutual information worker exited with code ${code}`))));
      }),
    );
  }
  await Promise.all(jobs);
  const result = Float64Array.from(out);
  if (opts.normalizeColumns) normalizeColumnsInPlace(result, numClasses, k);
  return result;
}
