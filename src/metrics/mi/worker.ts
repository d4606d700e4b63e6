// Worker thread of pool.ts (miMatrixAsync): scales, noises and scores the features j0..j1 of a
// one-vs-rest matrix, writing them into the shared output.
import { isMainThread, workerData, parentPort } from 'node:worker_threads';
import type { FeatureArray } from './prepare.js';
import { prepareFeatures } from './prepare.js';
import { oneVsRestRange, oneVsRestTargets } from './one_vs_rest.js';

export interface MiWorkerData {
  csgnetMiWorker: true;
  features: FeatureArray; out: Float64Array; lab: Int32Array; n: number; k: number; numClasses: number; nn: number;
  seed: number; j0: number; j1: number;
}

// Runs only when started by miMatrixAsync (importing this file elsewhere does nothing).
if (!isMainThread && workerData && (workerData as Partial<MiWorkerData>).csgnetMiWorker) {
  const d = workerData as MiWorkerData;
  const targets = oneVsRestTargets(d.lab, d.numClasses, d.nn);
  const cols = prepareFeatures(d.features, d.n, d.k, d.seed, d.j0, d.j1);
  oneVsRestRange(cols, d.n, d.k, targets, d.j0, d.j1, d.out, d.j0, d.nn);
  parentPort?.close();
}
