// The stages of `csgnet adversarial` (adversarial.ts runs them per setting): select the images to
// attack, attack them, give each a same-L2 noisy copy, and score the detectors on the selected copies.
// Images stay libtorch tensors [N, C, H, W] in [0, 1] from the loader to the detectors; only the
// per-image numbers (success, distances, predictions) and what is written to files cross to JS.
// Every batch loop keeps the old partition (batchSize images from the first), so results are unchanged.
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { BatchLoader, splitDataset, type ImageDataset } from '../data/index.js';
import { runDataset, type OpenRun } from '../csg/run.js';
import { correctlyClassified, runAttack, summarizeAttack, type Attack, type AttackSummary, type PixelModel } from '../attack/index.js';
import { Detector, scoresCopies, type DetectorName } from '../detect/index.js';
import { detectionMetrics, rocCurve } from '../metrics/detection.js';
import { thinRoc } from '../report/roc.js';
import type { DetectorMetrics, DetectorOutcome } from '../csg/results.js';

/** Calls fn(start, count) for each batch of `batchSize` of n items, in order. */
function eachBatch(n: number, batchSize: number, fn: (start: number, count: number) => void): void {
  for (let s = 0; s < n; s += batchSize) fn(s, Math.min(batchSize, n - s));
}

/** Whether each image of x (and its label) is classified correctly, batch by batch. */
function correctMask(pm: PixelModel, x: Tensor, labels: Tensor, batchSize: number): Uint8Array {
  const out = new Uint8Array(x.shape[0]!);
  eachBatch(out.length, batchSize, (s, b) => out.set(torch.tidy(() =>
    correctlyClassified(pm, x.narrow(0, s, b), labels.narrow(0, s, b)).to('uint8').data() as Uint8Array), s));
  return out;
}

/** The attacked images: the correctly classified ones of the first n of a split. Free with dispose(). */
export interface Selection {
  /** Their indices in the split, ascending. */
  indices: number[];
  labels: Int32Array;
  /** [m, C, H, W] in [0, 1], and their labels as int64 [m]. */
  clean: Tensor;
  labelsT: Tensor;
  dispose(): void;
}

/** Stage 1, select: the first n images of ds in [0, 1], and those the model classifies correctly. */
export function selectImages(pm: PixelModel, ds: ImageDataset, n: number, batchSize: number): Selection {
  const per = ds.channels * ds.height * ds.width;
  const x = new Float32Array(n * per), y = new Int32Array(n);
  let at = 0;
  for (const b of new BatchLoader(ds, { batchSize, shuffle: false, normalize: false, limit: n }).epoch(0)) {
    x.set(b.x, at * per); y.set(b.y, at); at += b.y.length;
  }
  return torch.tidy(() => {
    const all = torch.fromTypedArray(x, [n, ds.channels, ds.height, ds.width]);
    const correct = correctMask(pm, all, torch.fromTypedArray(y, [n], { dtype: 'int64' }), batchSize);
    const indices: number[] = [];
    for (let i = 0; i < n; i++) if (correct[i]) indices.push(i);
    const labels = Int32Array.from(indices, (i) => y[i]!);
    const clean = indices.length ? torch.keep(all.indexSelect(0, torch.tensor(indices, { dtype: 'int64' }))) : torch.keep(all.narrow(0, 0, 0).clone());
    const labelsT = torch.keep(torch.fromTypedArray(labels, [labels.length], { dtype: 'int64' }));
    return { indices, labels, clean, labelsT, dispose: () => { clean.dispose(); labelsT.dispose(); } };
  });
}

/** One setting's attack on the selection: the adversarial images [m, C, H, W] and per-image results. */
export interface Attacked {
  adv: Tensor;
  success: Uint8Array;
  predicted: Int32Array;
  linf: Float32Array;
  l2: Float32Array;
  summary: AttackSummary;
}

/** Stage 2, attack: batch by batch; `between(count)` runs after each (progress, a stop). */
export async function attackImages(attack: Attack, sel: Selection, batchSize: number, between: (count: number) => Promise<void>): Promise<Attacked> {
  const m = sel.labels.length;
  const advs: Tensor[] = [];
  const success = new Uint8Array(m), predicted = new Int32Array(m), linf = new Float32Array(m), l2 = new Float32Array(m);
  let queries = 0, seconds = 0;
  try {
    for (let s = 0; s < m; s += batchSize) {
      const b = Math.min(batchSize, m - s);
      const r = torch.tidy(() => runAttack(attack, sel.clean.narrow(0, s, b), sel.labelsT.narrow(0, s, b)));
      advs.push(r.adv);
      success.set(r.success, s); predicted.set(r.predicted, s); linf.set(r.linf, s); l2.set(r.l2, s);
      queries += r.queries; seconds += r.seconds;
      await between(b);
    }
    const adv = advs.length === 1 ? advs.pop()! : torch.cat(advs);
    return { adv, success, predicted, linf, l2, summary: summarizeAttack([{ success, linf, l2, queries, seconds }]) };
  } finally {
    for (const t of advs) t.dispose();
  }
}

/**
 * Stage 3, noisy copies: each image plus Gaussian noise whose L2 norm is l2[k] (its perturbation's),
 * clamped to [0, 1]. `normal` draws the noise in JS (the seeded stream, image by image); the sum is
 * in float64 as x + scale * z, then rounded to float32.
 */
export function noisyCopies(clean: Tensor, l2: Float32Array, normal: () => number, batchSize: number): Tensor {
  const m = clean.shape[0]!, shape = clean.shape.slice(1), per = shape.reduce((a, b) => a * b, 1);
  const parts: Tensor[] = [];
  try {
    eachBatch(m, batchSize, (s, b) => {
      const z = new Float64Array(b * per), scale = new Float64Array(b);
      for (let k = 0; k < b; k++) {
        let norm = 0;
        for (let i = k * per; i < (k + 1) * per; i++) { z[i] = normal(); norm += z[i]! * z[i]!; }
        scale[k] = norm > 0 ? l2[s + k]! / Math.sqrt(norm) : 0;
      }
      parts.push(torch.tidy(() => {
        const noise = torch.fromTypedArray(z, [b, per]).mul(torch.fromTypedArray(scale, [b, 1]));
        return clean.narrow(0, s, b).reshape([b, per]).to('float64').add(noise).clamp(0, 1).to('float32').reshape([b, ...shape]);
      }));
    });
    return parts.length === 1 ? parts.pop()! : torch.cat(parts);
  } finally {
    for (const t of parts) t.dispose();
  }
}

/** The detection samples of one part (fit or eval): clean, noisy and adversarial copies of its images. */
export interface Samples { clean: Tensor; noisy: Tensor; adv: Tensor; count: number }

const rowsOf = (x: Tensor, rows: number[]): Tensor => rows.length ? x.indexSelect(0, torch.tensor(rows, { dtype: 'int64' })) : x.narrow(0, 0, 0).clone();

/** What stage 4 gives for one setting. Free `fit` and `eval` with disposeSamples (unless kept for transfer). */
export interface Scored {
  fitRows: number[];
  evalRows: number[];
  fit: Samples;
  eval: Samples;
  outcomes: Partial<Record<DetectorName, DetectorOutcome>>;
}

/**
 * Stage 4, score: keep the successful images whose noisy copy is still classified correctly, split
 * them by `isFit` (per image of the split, `indices` mapping rows to it), fit and score the detectors.
 */
export function scoreSetting(pm: PixelModel, dets: Detector[], sel: Selection, a: Attacked, noisy: Tensor, isFit: Uint8Array, batchSize: number): Scored {
  const noisyOk = correctMask(pm, noisy, sel.labelsT, batchSize);
  const fitRows: number[] = [], evalRows: number[] = [];
  for (let k = 0; k < sel.labels.length; k++) {
    if (!a.success[k] || !noisyOk[k]) continue;
    (isFit[sel.indices[k]!] ? fitRows : evalRows).push(k);
  }
  const part = (rows: number[]): Samples => torch.tidy(() => {
    const s = { clean: rowsOf(sel.clean, rows), noisy: rowsOf(noisy, rows), adv: rowsOf(a.adv, rows), count: rows.length };
    for (const t of [s.clean, s.noisy, s.adv]) torch.keep(t);
    return s;
  });
  const fit = part(fitRows), evalSet = part(evalRows);
  return { fitRows, evalRows, fit, eval: evalSet, outcomes: evaluateDetectors(dets, fit, evalSet, batchSize) };
}

export function disposeSamples(s: Samples): void {
  s.clean.dispose(); s.noisy.dispose(); s.adv.dispose();
}

/** Whether a detector learns anything in fit() (the gate score needs no fitting). */
function fits(d: Detector): boolean {
  return d.fit !== Detector.prototype.fit;
}

function scores(d: Detector, x: Tensor, batchSize: number): Float64Array {
  const out = new Float64Array(x.shape[0]!);
  eachBatch(out.length, batchSize, (s, b) => {
    const part = torch.tidy(() => d.score(x.narrow(0, s, b)));
    if (part.length !== b) throw new Error(`the ${d.name} detector returned ${part.length} scores for ${b} images`);
    out.set(part, s);
  });
  return out;
}

/** Fits each detector on `fit` (where it learns) and scores `test`: metrics, or why there are none. */
export function evaluateDetectors(dets: Detector[], fit: Samples, test: Samples, batchSize: number): Partial<Record<DetectorName, DetectorOutcome>> {
  const res: Partial<Record<DetectorName, DetectorOutcome>> = {};
  for (const d of dets) {
    if (test.count === 0) { res[d.name] = { skipped: 'no selected image in the reported part' }; continue; }
    if (scoresCopies(d)) {
      // LID: every copy's features depend on the clean images of its minibatch (Ma et al.)
      if (fit.count < 3 || test.count < 3) { res[d.name] = { skipped: `${fit.count} and ${test.count} selected images in the fitting and reported parts: LID needs 3 in each` }; continue; }
      torch.tidy(() => d.fitCopies(fit));
      const s = torch.tidy(() => d.scoreCopies(test));
      const c = test.count;
      const all = new Float64Array(3 * c);
      all.set(s.clean, 0); all.set(s.noisy, c); all.set(s.adv, 2 * c);
      res[d.name] = metricsOf(all, new Uint8Array(3 * c).fill(1, 2 * c));
      continue;
    }
    if (fits(d)) {
      if (fit.count === 0) { res[d.name] = { skipped: 'no selected image in the fitting part' }; continue; }
      const f = fit.count;
      const flags = new Uint8Array(3 * f).fill(1, 2 * f);
      torch.tidy(() => d.fit(torch.cat([fit.clean, fit.noisy, fit.adv]), flags));
    }
    const c = test.count;
    const all = new Float64Array(3 * c), labels = new Uint8Array(3 * c).fill(1, 2 * c);
    all.set(scores(d, test.clean, batchSize), 0);
    all.set(scores(d, test.noisy, batchSize), c);
    all.set(scores(d, test.adv, batchSize), 2 * c);
    res[d.name] = metricsOf(all, labels);
  }
  return res;
}

function metricsOf(scoresAll: Float64Array, labels: Uint8Array): DetectorMetrics {
  const mt = detectionMetrics(scoresAll, labels, { tpr: 0.95 });
  const roc = rocCurve(scoresAll, labels);
  return { auroc: mt.auroc, tnr_at_95_tpr: mt.tnrAtTpr, detection_accuracy: mt.detectionAccuracy, tnr_threshold: mt.tnrThreshold,
    accuracy_threshold: mt.accuracyThreshold, roc: thinRoc(roc.fpr, roc.tpr) };
}

/** The training images the model learnt from: the run's train part (without its held-out val part),
 *  of which the trainer read the first `limit` when it had one. */
export async function trainImages(run: OpenRun, log: (line: string) => void): Promise<{ ds: ImageDataset; seen: number }> {
  let full: ImageDataset;
  try {
    full = await runDataset(run, 'train', { log });
  } catch (e) {
    const why = run.gate ? 'the Mahalanobis statistics' : "the Mahalanobis statistics and this STD run's filter-to-class assignment (its gate detector)";
    throw new Error(`the detectors need the run's training images for ${why}, which cannot be read: ${(e as Error).message}`);
  }
  const ds = run.config.valFraction > 0 ? splitDataset(full, run.config.valFraction, run.config.seed).train : full;
  return { ds, seen: run.config.limit ? Math.min(run.config.limit, ds.length) : ds.length };
}

/** A detector's AUROC for the log line. */
export function auroc(d: DetectorOutcome | undefined): string {
  return d && 'auroc' in d ? d.auroc.toFixed(3) : 'n/a';
}
