// Interpretability analysis of a run (method.md section 4): GAP features of the STD path, the
// one-vs-rest MI matrix and MIS, gate density, filter-class assignments and their agreement,
// per-filter specificity, feature correlations, and per-class accuracy with only a class's filters.
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import * as torch from '../torch/index.js';
import { extractFeatures, openRun, runDataset, type OpenRun, type RunDataOptions } from '../csg/run.js';
import { writeFileAtomic } from '../util/atomic.js';
import { miMatrixAsync, mis as misScore } from '../metrics/mutual_info.js';
import { analysisKey, type AnalyzeOptions } from './analysis_key.js';
import { ANALYSIS_FILE } from '../csg/run_dir.js';
import type { AnalysisResult } from '../csg/results.js';

export { analysisKey, keyDifference, type AnalysisKey, type AnalyzeOptions } from './analysis_key.js';
export type { AnalysisResult } from '../csg/results.js';
import {
  assignmentAgreement, correlationMatrix, gateAssignment, histogram, miAssignment, orderByAssignment,
  relatedFilterCounts, specificity,
} from '../metrics/analysis.js';

const mean = (xs: number[]) => { const f = xs.filter(Number.isFinite); return f.length ? f.reduce((a, b) => a + b, 0) / f.length : NaN; };
const rows = (flat: ArrayLike<number>, r: number, c: number): number[][] =>
  Array.from({ length: r }, (_, i) => Array.from({ length: c }, (_, j) => flat[i * c + j]));

/**
 * Keeping only the GAP features of the filters assigned to class c (all others zeroed before fc), how
 * well does the model still tell class c from the rest? Over all images: recall = share of class-c
 * images predicted c, specificity = share of the others not predicted c, balanced = their mean.
 * (Recall alone would be trivially high: a model that sees only class-c evidence predicts c a lot.)
 */
export function classFilterAccuracy(run: OpenRun, features: Float32Array, labels: Int32Array, n: number, k: number, assignment: ArrayLike<number>, C: number):
  { recall: number[]; specificity: number[]; balanced: number[] } {
  return torch.tidy(() => torch.noGrad(() => {
    const f = torch.fromTypedArray(features, [n, k]);
    const recall: number[] = [], specificity: number[] = [], balanced: number[] = [];
    for (let c = 0; c < C; c++) {
      const mask = torch.tensor(Array.from({ length: k }, (_, j) => (assignment[j] === c ? 1 : 0)), { dtype: 'float32' });
      const pred = run.model.fc.forward(f.mul(mask)).argmax(1).to('int32').data() as Int32Array;
      let pos = 0, tp = 0, neg = 0, tn = 0;
      for (let i = 0; i < n; i++) {
        if (labels[i] === c) { pos++; if (pred[i] === c) tp++; } else { neg++; if (pred[i] !== c) tn++; }
      }
      const r = pos ? tp / pos : NaN, s = neg ? tn / neg : NaN;
      recall.push(r); specificity.push(s); balanced.push((r + s) / 2);
    }
    return { recall, specificity, balanced };
  }));
}

/** The analysis plus what the figures need beyond it (the GAP features and the gate). */
export interface AnalysisWithData { result: AnalysisResult; features: Float32Array; gate: number[][] | null }

export async function analyzeRun(dir: string, o: AnalyzeOptions & RunDataOptions = {}): Promise<AnalysisWithData> {
  const run = openRun(dir, o.checkpoint ?? 'last'); // first: names a folder that is not a run
  try {
    return await analyzeOpenRun(run, dir, o);
  } finally {
    // Opened here, freed here: repeated analyses (report, compare) keep native memory flat.
    run.model.dispose();
    run.gate?.weight.dispose();
  }
}

async function analyzeOpenRun(run: OpenRun, dir: string, o: AnalyzeOptions & RunDataOptions): Promise<AnalysisWithData> {
  const key = analysisKey(dir, { split: o.split, limit: o.limit, checkpoint: o.checkpoint, mi: o.mi });
  const split = o.split ?? 'test';
  const ds = await runDataset(run, split, { log: o.log });
  const C = ds.numClasses;
  const t0 = performance.now();
  const { features, labels, n, k } = extractFeatures(run.model, ds, o.limit ?? 0, run.config.memoryFormat);
  const t1 = performance.now();
  const M = await miMatrixAsync(features, n, k, labels, C, o.mi ?? {});
  const t2 = performance.now();
  let correct = 0;
  torch.tidy(() => torch.noGrad(() => {
    const pred = run.model.fc.forward(torch.fromTypedArray(features, [n, k])).argmax(1).to('int32').data() as Int32Array;
    for (let i = 0; i < n; i++) if (pred[i] === labels[i]) correct++;
  }));
  const G = run.gate ? run.gate.toArray() : null;
  const gateAssign = G ? gateAssignment(G, k, C) : null;
  const miAssign = miAssignment(M, C, k);
  const spec = specificity(M, C, k);
  const useAssign = gateAssign ?? miAssign;
  const perClass = classFilterAccuracy(run, features, labels, n, k, useAssign, C);
  const result: AnalysisResult = {
    key, run: dir, checkpoint: run.checkpoint, split, n, classes: ds.classNames, accuracy: correct / n,
    mis: misScore(M, C, k), mi_matrix: rows(M, C, k), density: run.gate ? run.gate.density() : null,
    assignment: { gate: gateAssign ? Array.from(gateAssign) : null, mi: Array.from(miAssign) },
    agreement: gateAssign ? assignmentAgreement(gateAssign, miAssign) : null,
    related_filters: { gate: gateAssign ? relatedFilterCounts(gateAssign, C) : null, mi: relatedFilterCounts(miAssign, C) },
    specificity: Array.from(spec), mean_specificity: spec.reduce((a, b) => a + b, 0) / k,
    specificity_histogram: histogram(spec, 20, 0, 1),
    class_filter_accuracy: { assignment: gateAssign ? 'gate' : 'mi', ...perClass, mean_balanced: mean(perClass.balanced) },
    seconds: { features: (t1 - t0) / 1000, mi: (t2 - t1) / 1000 },
  };
  return { result, features, gate: G };
}

/** Writes DIR/analysis.json and the figures (SVG + PNG): gate heatmap, MI matrix, correlations, specificity. */
export async function writeAnalysis({ result: r, features, gate: G }: AnalysisWithData, outDir: string): Promise<string[]> {
  const { gateHeatmap, miMatrixHeatmap, correlationHeatmap, specificityHistogram, writeFigure } = await import('../report/charts.js');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, ANALYSIS_FILE);
  writeFileAtomic(file, JSON.stringify(r) + '\n');
  const C = r.classes.length, K = r.specificity.length;
  const assign = r.assignment.gate ?? r.assignment.mi;
  const order = orderByAssignment(assign, r.specificity);
  const written = [file];
  const M = Float64Array.from(r.mi_matrix.flat());
  const figs: [string, any][] = [['mi_matrix', miMatrixHeatmap(M, C, K, r.classes, order)], ['specificity', specificityHistogram(r.specificity)]];
  if (G) figs.unshift(['gate', gateHeatmap(G, K, C, r.classes, order)]);
  figs.push(['correlation', correlationHeatmap(correlationMatrix(features, r.n, K), K, order)]);
  for (const [name, spec] of figs) {
    const f = await writeFigure(outDir, name, spec);
    written.push(f.svg, f.png);
  }
  return written;
}
