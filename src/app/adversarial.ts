// `csgnet adversarial`: attacks a run's model and measures how well each detector tells adversarial
// images from clean and noisy ones (method.md section 6; the protocol is ours, after Lee et al. 2018):
// - attack the correctly classified images of the first N of the split, per attack and eps (CW once: no eps);
// - give every attacked image a Gaussian-noise copy whose L2 norm equals its perturbation's, clamped to [0, 1];
// - keep the images whose noisy copy is still classified correctly and whose attack succeeds: clean and
//   noisy copies are negatives, adversarial ones positives;
// - a seeded split of the N images (fit_fraction, default 10 %) fits the detectors, the rest is reported
//   (split by image, so an image's three copies are never on both sides; the same split for every attack);
// - transfer: detectors fitted on FGSM at eps e score PGD at e and CW;
// - adaptive: PGD on CE + w * s(x), s the gate-consistency score, scored by every detector.
// The results folder is written whole at the end (a temp folder renamed over it): a stopped or failed run
// leaves the earlier results as they were; there is no resume, a rerun starts from scratch.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { BatchLoader, Rng, mixSeed, splitDataset, type ImageDataset } from '../data/index.js';
import { openRun, runDataset, type OpenRun } from '../csg/run.js';
import { ATTACK_NAMES, PixelModel, createAttack, defaultAttackOptions, runAttack, type AttackName, type AttackOptions } from '../attack/index.js';
import { DETECTOR_NAMES, Detector, createDetector, gateConsistency, type DetectorContext, type DetectorName } from '../detect/index.js';
import { detectionMetrics, rocCurve } from '../metrics/detection.js';
import { FilterClassStats } from '../explain/filter_stats.js';
import { writeNpy } from '../io/npy.js';
import { thinRoc } from '../report/roc.js';
import { analysisKey } from './analysis_key.js';
import { RunDir } from '../csg/run_dir.js';
import type { AdversarialReport, DetectorMetrics, DetectorOutcome, SettingResult, TransferResult } from '../csg/results.js';
import { MIN_REPORTED, writeAdversarialReport, type AdversarialExample } from './adversarial_report.js';
import { checkOutputDir, writingOutput } from './outputs.js';
import { StagedDir } from '../util/staged_dir.js';

import { ADVERSARIAL_DEFAULTS as D } from './defaults.js';

export const DEFAULT_EPS = D.eps;
export const DEFAULT_ADAPTIVE_WEIGHTS = D.adaptiveWeights;
export const DEFAULT_LIMIT = D.limit;
/** What adversarial writes into its --out folder: an existing folder holding only these is replaced. */
export const ADVERSARIAL_FILES = ['adversarial.json', 'adversarial.md', 'roc.svg', 'roc.png', 'examples.png', 'npy'];
/** Examples kept per setting for examples.png. */
const EXAMPLES = 4;

export interface AdversarialOptions {
  run: string;
  checkpoint?: string;
  split?: 'test' | 'train' | 'val';
  /** The first N images of the split (default DEFAULT_LIMIT, 0 = all); the correctly classified ones are attacked. */
  limit?: number;
  attacks?: readonly string[];
  /** Linf radii (pixel units) of fgsm, bim, pgd (and the adaptive PGD). */
  eps?: readonly number[];
  /** L2 radii of pgd-l2 (default: defaultAttackOptions', 2 for grey images, 0.5 for colour). CW has none. */
  l2Eps?: readonly number[];
  detectors?: readonly string[];
  /** Fraction of the N images whose samples fit the detectors (default 0.1). */
  fitFraction?: number;
  /** Seeds the fit/report split, the Gaussian noise and the attacks' random starts. */
  seed?: number;
  /** Training images the detectors' statistics use (Mahalanobis Gaussians, STD assignment); default 10000. */
  fitTrainLimit?: number;
  /** Weights w of the adaptive attack on the gate detector (PGD maximising CE + w s(x)); [] = none. */
  adaptiveWeights?: readonly number[];
  /** Fit on FGSM, test on PGD and CW (default true; needs fgsm). */
  transfer?: boolean;
  batchSize?: number;
  /** Also write the adversarial images as npy/<setting>.npy. */
  saveAdversarial?: boolean;
  /** Output folder; default RUN/adversarial (where `csgnet compare` looks). Written as a whole at the end. */
  out?: string;
  /** Stops the run after the current batch (Ctrl-C); nothing is written and a rerun starts from scratch. */
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Attacked images so far, over every setting. */
  progress?: (done: number, total: number) => void;
}

export type { AdversarialReport, DetectorMetrics, DetectorOutcome, SettingResult, TransferResult } from '../csg/results.js';

const PROTOCOL = 'Lee et al. (2018) style: clean images classified correctly, whose same-L2 Gaussian-noise copy is classified correctly and whose attack ' +
  'succeeds; clean and noisy copies negative, adversarial positive; detectors fitted on a seeded split of the images (fit_fraction), ' +
  'metrics on the rest; split by image and shared by every attack.';

/** The smallest image count whose split (detectionSplit) fits >= 1 image and reports >= `reported`. */
function limitFor(fraction: number, reported: number): number {
  let n = reported + 1;
  while (Math.round(n * fraction) < 1 || n - Math.round(n * fraction) < reported) n++;
  return n;
}

/** A seeded split of n images: 1 = fits the detectors (round(n * fraction) of them), 0 = reported. */
export function detectionSplit(n: number, fraction: number, seed: number): Uint8Array {
  if (!(fraction > 0 && fraction < 1)) throw new Error(`--fit-fraction: expected a number in (0, 1), got ${fraction}`);
  const isFit = new Uint8Array(n);
  const perm = new Rng(mixSeed(seed, 0x5eed)).permutation(n);
  for (let k = 0; k < Math.round(n * fraction); k++) isFit[perm[k]!] = 1;
  return isFit;
}

function checkNames<T extends string>(flag: string, given: readonly string[] | undefined, known: readonly T[], fallback: readonly T[]): T[] {
  const list = given ? [...new Set(given.map((s) => s.trim()).filter(Boolean))] : [...fallback];
  if (list.length === 0) throw new Error(`${flag}: empty list (known: ${known.join(', ')})`);
  for (const s of list) if (!(known as readonly string[]).includes(s)) throw new Error(`${flag}: unknown name '${s}' (known: ${known.join(', ')})`);
  return list as T[];
}

function checkPositive(flag: string, values: readonly number[], max = Infinity): number[] {
  for (const v of values) if (!(Number.isFinite(v) && v > 0 && v <= max)) throw new Error(`${flag}: every value must be > 0${max < Infinity ? ` and <= ${max}` : ''}, got ${v}`);
  return [...new Set(values)];
}

/** Images [n, C, H, W] in [0, 1] (v / 255) and their labels. */
function pixels(ds: ImageDataset, n: number, batchSize: number): { x: Float32Array; labels: Int32Array } {
  const per = ds.channels * ds.height * ds.width;
  const x = new Float32Array(n * per), labels = new Int32Array(n);
  let at = 0;
  for (const b of new BatchLoader(ds, { batchSize, shuffle: false, normalize: false, limit: n }).epoch(0)) {
    x.set(b.x, at * per); labels.set(b.y, at); at += b.y.length;
  }
  return { x, labels };
}

/** The training images the model learnt from: the run's train part (without its held-out val part),
 *  of which the trainer read the first `limit` when it had one. */
async function trainImages(run: OpenRun, log: (line: string) => void): Promise<{ ds: ImageDataset; seen: number }> {
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

function predictions(pm: PixelModel, x: Float32Array, n: number, shape: number[], batchSize: number): Int32Array {
  const per = shape.reduce((a, b) => a * b, 1), out = new Int32Array(n);
  for (let s = 0; s < n; s += batchSize) {
    const b = Math.min(batchSize, n - s);
    out.set(torch.tidy(() => pm.predict(torch.fromTypedArray(x.subarray(s * per, (s + b) * per), [b, ...shape])).to('int32').data() as Int32Array), s);
  }
  return out;
}

/** A standard normal draw (Box-Muller) from the project's RNG. */
function gaussian(rng: Rng): number {
  const u = 1 - rng.float(), v = rng.float();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** x + Gaussian noise scaled to L2 norm `l2`, clamped to [0, 1], written into out. */
function noisyCopy(x: Float32Array, l2: number, rng: Rng, out: Float32Array): void {
  const z = new Float64Array(x.length);
  let norm = 0;
  for (let i = 0; i < z.length; i++) { z[i] = gaussian(rng); norm += z[i]! * z[i]!; }
  const scale = norm > 0 ? l2 / Math.sqrt(norm) : 0;
  for (let i = 0; i < z.length; i++) out[i] = Math.min(1, Math.max(0, x[i]! + scale * z[i]!));
}

/** The detection samples of one part (fit or eval): clean, noisy and adversarial copies of its images. */
interface Samples { clean: Float32Array; noisy: Float32Array; adv: Float32Array; count: number }

function gather(src: Float32Array, rows: number[], per: number): Float32Array {
  const out = new Float32Array(rows.length * per);
  rows.forEach((r, k) => out.set(src.subarray(r * per, (r + 1) * per), k * per));
  return out;
}

interface Setting { key: string; file: string; attack: AttackName | 'pgd-adaptive'; eps: number | null; weight: number | null }

export async function adversarialRun(o: AdversarialOptions): Promise<{ report: AdversarialReport; files: string[] }> {
  // Flags first: a typo costs no model load.
  const attacks = checkNames('--attacks', o.attacks, ATTACK_NAMES, ATTACK_NAMES);
  attacks.sort((a, b) => ATTACK_NAMES.indexOf(a) - ATTACK_NAMES.indexOf(b)); // fgsm first: transfer fits on it
  const detectors = checkNames('--detectors', o.detectors, DETECTOR_NAMES, DETECTOR_NAMES);
  const epsList = checkPositive('--eps', o.eps ?? DEFAULT_EPS, 1);
  const l2Given = o.l2Eps ? checkPositive('--l2-eps', o.l2Eps) : null;
  const weights = o.adaptiveWeights ? (o.adaptiveWeights.length ? checkPositive('--adaptive-weights', o.adaptiveWeights) : []) : [...DEFAULT_ADAPTIVE_WEIGHTS];
  const fitFraction = o.fitFraction ?? D.fitFraction, seed = o.seed ?? D.seed, batchSize = o.batchSize ?? D.batchSize, fitTrainLimit = o.fitTrainLimit ?? D.fitTrainLimit;
  const split = o.split ?? 'test', transfer = o.transfer ?? true;
  if (!(fitFraction > 0 && fitFraction < 1)) throw new Error(`--fit-fraction: expected a number in (0, 1), got ${fitFraction}`);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`--seed: expected a non-negative integer, got ${seed}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`--batch: expected a positive integer, got ${batchSize}`);
  if (!Number.isInteger(fitTrainLimit) || fitTrainLimit < 1) throw new Error(`--fit-train-limit: expected a positive integer, got ${fitTrainLimit}`);
  if (o.limit !== undefined && !(Number.isInteger(o.limit) && o.limit >= 0)) throw new Error(`--limit: expected a non-negative integer, got ${o.limit}`);
  const ownDir = new RunDir(o.run, '--run').adversarialDir;
  const out = o.out ?? ownDir;
  checkOutputDir('--out', out, { runs: [o.run], mode: 'replace', owns: ADVERSARIAL_FILES, suggest: ownDir });
  const log = o.log ?? (() => {});
  // Between batches: the event loop runs (a signal handler can abort), then a stop is honoured.
  const stopIfAsked = async () => {
    if (o.signal) await new Promise((res) => setImmediate(res));
    if (o.signal?.aborted) throw new Error(`interrupted: nothing was written to ${out} (earlier results there are as they were); a rerun starts from scratch`);
  };

  const run = openRun(o.run, o.checkpoint ?? 'last');
  const checkpointKey = analysisKey(o.run, { checkpoint: o.checkpoint ?? 'last' }).checkpoint;
  const ds = await runDataset(run, split, { log });
  const limit = o.limit ?? DEFAULT_LIMIT;
  const n = limit ? Math.min(limit, ds.length) : ds.length;
  const shape = [ds.channels, ds.height, ds.width], per = ds.channels * ds.height * ds.width;
  const model = run.model;
  model.eval();
  // The run's training normalisation (ds carries it), as every command uses it.
  const pm = new PixelModel(model, ds.mean, ds.std);
  const gate = run.gate ? torch.keep(run.gate.weight.detach()) : null;
  const held: Tensor[] = [];
  let dets: Detector[] = [];
  // Everything goes to a temp folder beside `out`, swapped in at the end: a stopped or failed run
  // leaves `out` as it was (no arrays of one run beside another's JSON).
  let stage: StagedDir | null = null;
  try {
    const isFit = detectionSplit(n, fitFraction, seed);
    const nFit = isFit.reduce((acc, f) => acc + f, 0);
    if (nFit === 0 || nFit === n) {
      throw new Error(`${n} images are too few for a ${fitFraction} fitting split: ${nFit} would fit the detectors and ${n - nFit} be reported; ` +
        `use a larger --limit (at least ${limitFor(fitFraction, 1)})`);
    }
    if (n - nFit < MIN_REPORTED) {
      log(`warning: ${n} images: ${n - nFit} are reported, so every detector's metrics come from fewer than ${MIN_REPORTED} samples per class ` +
        `(clean, noisy, adversarial) and are unreliable; --limit ${limitFor(fitFraction, MIN_REPORTED)} or more gives ${MIN_REPORTED} before selection`);
    }
    const clean = pixels(ds, n, batchSize);
    const cleanPred = predictions(pm, clean.x, n, shape, batchSize);
    const attackedIdx: number[] = [];
    for (let i = 0; i < n; i++) if (cleanPred[i] === clean.labels[i]) attackedIdx.push(i);
    const m = attackedIdx.length;
    log(`${n} images of ${ds.name} (${split}): ${m} classified correctly (${(100 * m / Math.max(1, n)).toFixed(1)} %)`);
    if (m === 0) throw new Error(`no image of the first ${n} of the ${split} split is classified correctly: nothing to attack`);
    const cleanAtt = gather(clean.x, attackedIdx, per);
    const labelsAtt = Int32Array.from(attackedIdx, (i) => clean.labels[i]!);

    // Detectors: prepared once on the training images (Mahalanobis Gaussians, the STD assignment).
    const { ds: train, seen } = await trainImages(run, log);
    const trainN = Math.min(fitTrainLimit, seen);
    const trainBatches = function* (): Generator<{ x01: Tensor; labels: Tensor }> {
      for (const b of new BatchLoader(train, { batchSize, shuffle: false, normalize: false, limit: trainN }).epoch(0)) {
        const x01 = torch.keep(torch.fromTypedArray(b.x, b.shape));
        const labels = torch.keep(torch.fromTypedArray(b.y, [b.y.length], { dtype: 'int64' }));
        try { yield { x01, labels }; } finally { x01.dispose(); labels.dispose(); }
      }
    };
    const ctx: DetectorContext = { model: pm, gate, trainBatches };
    dets = detectors.map((name) => createDetector(name, { batchSize }));
    for (const d of dets) { log(`preparing the ${d.name} detector on ${trainN} training images`); d.prepare(ctx); await stopIfAsked(); }

    // The adaptive attack's filter-to-class matrix: G, or an STD model's assignment by mean activation.
    const settings: Setting[] = [];
    const l2Eps = l2Given ?? [defaultAttackOptions('pgd-l2', { channels: ds.channels, height: ds.height }).eps!];
    for (const a of attacks) {
      if (a === 'cw') settings.push({ key: 'cw', file: 'cw', attack: a, eps: null, weight: null });
      else for (const e of a === 'pgd-l2' ? l2Eps : epsList) settings.push({ key: `${a}@${e}`, file: `${a}_eps${e}`, attack: a, eps: e, weight: null });
    }
    let assignment: Tensor | null = null;
    if (weights.length && detectors.includes('gate')) {
      if (gate) assignment = gate;
      else {
        const stats = FilterClassStats.of(model, (function* () {
          for (const b of trainBatches()) { const x = torch.keep(pm.normalize(b.x01)); try { yield { x, labels: b.labels }; } finally { x.dispose(); } }
        })());
        assignment = torch.keep(stats.assignmentGate());
        held.push(assignment);
      }
      for (const w of weights) for (const e of epsList) settings.push({ key: `pgd-adaptive-w${w}@${e}`, file: `pgd-adaptive_w${w}_eps${e}`, attack: 'pgd-adaptive', eps: e, weight: w });
    }

    const total = settings.length * m;
    let done = 0;
    o.progress?.(0, total);
    const results: SettingResult[] = [];
    const transfers: TransferResult[] = [];
    const examples: AdversarialExample[] = [];
    const fgsmFit = new Map<number, { samples: Samples; key: string }>();
    const files: string[] = [];
    stage = await writingOutput('--out', out, () => new StagedDir(out));
    const dir = stage.dir;
    if (o.saveAdversarial) {
      await writingOutput('--out', out, () => {
        mkdirSync(join(dir, 'npy'));
        writeNpy(join(dir, 'npy', 'indices.npy'), BigInt64Array.from(attackedIdx, (v) => BigInt(v)), [m]);
        writeNpy(join(dir, 'npy', 'labels.npy'), BigInt64Array.from(labelsAtt, (v) => BigInt(v)), [m]);
      });
      files.push(join(dir, 'npy', 'indices.npy'), join(dir, 'npy', 'labels.npy'));
    }

    for (const [si, s] of settings.entries()) {
      const base = s.attack === 'pgd-adaptive' ? 'pgd' : s.attack;
      const opts: AttackOptions = { ...defaultAttackOptions(base, { channels: ds.channels, height: ds.height }, s.eps ?? undefined), seed };
      if (s.weight !== null) {
        const w = s.weight, g = assignment!;
        // The attacker maximises CE + w * s(x): misclassified, yet looking consistent to the gate detector.
        opts.loss = (x01, logits, labels) => torch.F.crossEntropy(logits, labels).add(gateConsistency(pm, g, x01).mean().mul(w));
      }
      const attack = createAttack(base, pm, opts);
      const adv = new Float32Array(m * per), noisy = new Float32Array(m * per);
      const success = new Uint8Array(m), advPred = new Int32Array(m), linf = new Float32Array(m), l2 = new Float32Array(m);
      const rng = new Rng(mixSeed(seed, 0x401, si));
      for (let st = 0; st < m; st += batchSize) {
        const b = Math.min(batchSize, m - st);
        torch.tidy(() => {
          const x = torch.fromTypedArray(cleanAtt.subarray(st * per, (st + b) * per), [b, ...shape]);
          const y = torch.fromTypedArray(labelsAtt.subarray(st, st + b), [b], { dtype: 'int64' });
          const r = runAttack(attack, x, y);
          adv.set(r.adv.contiguous().data() as Float32Array, st * per);
          success.set(r.success, st); advPred.set(r.predicted, st); linf.set(r.linf, st); l2.set(r.l2, st);
          return null;
        });
        for (let k = st; k < st + b; k++) noisyCopy(cleanAtt.subarray(k * per, (k + 1) * per), l2[k]!, rng, noisy.subarray(k * per, (k + 1) * per));
        done += b;
        o.progress?.(done, total);
        await stopIfAsked();
      }
      const noisyPred = predictions(pm, noisy, m, shape, batchSize);
      const fitRows: number[] = [], evalRows: number[] = [];
      let successful = 0, sumLinf = 0, sumL2 = 0;
      for (let k = 0; k < m; k++) {
        if (!success[k]) continue;
        successful++; sumLinf += linf[k]!; sumL2 += l2[k]!;
        if (noisyPred[k] !== labelsAtt[k]) continue;
        (isFit[attackedIdx[k]!] ? fitRows : evalRows).push(k);
      }
      const part = (rows: number[]): Samples => ({ clean: gather(cleanAtt, rows, per), noisy: gather(noisy, rows, per), adv: gather(adv, rows, per), count: rows.length });
      const fit = part(fitRows), evalSet = part(evalRows);

      const outcomes = evaluateDetectors(dets, fit, evalSet, shape, batchSize);
      const { loss: _loss, ...shownOptions } = opts;
      const r: SettingResult = {
        key: s.key, attack: s.attack, eps: s.eps, adaptive_weight: s.weight, options: shownOptions as Record<string, unknown>,
        attacked: m, successful, success_rate: successful / m,
        mean_linf: successful ? sumLinf / successful : null, mean_l2: successful ? sumL2 / successful : null,
        selected: fitRows.length + evalRows.length,
        fit: { images: fitRows.length, samples: 3 * fitRows.length }, eval: { images: evalRows.length, samples: 3 * evalRows.length },
        detectors: outcomes,
      };
      results.push(r);
      if (evalRows.length < MIN_REPORTED) {
        log(`warning: ${s.key}: ${evalRows.length} reported images (samples per class), fewer than ${MIN_REPORTED}: its detector metrics are unreliable`);
      }
      log(`${s.key}: success ${(100 * r.success_rate).toFixed(1)} % of ${m}, selected ${r.selected} (fit ${fitRows.length}, report ${evalRows.length}); AUROC ` +
        detectors.map((d) => `${d} ${auroc(outcomes[d])}`).join(', '));

      if (transfer && s.attack === 'fgsm' && s.eps !== null) fgsmFit.set(s.eps, { samples: fit, key: s.key });
      if (transfer && (s.attack === 'pgd' || s.attack === 'cw')) {
        const sources = s.attack === 'cw' ? [...fgsmFit.values()] : (fgsmFit.has(s.eps!) ? [fgsmFit.get(s.eps!)!] : []);
        for (const src of sources) transfers.push({ fit: src.key, test: s.key, detectors: evaluateDetectors(dets, src.samples, evalSet, shape, batchSize) });
      }

      const ex = [...fitRows, ...evalRows].sort((a, b) => a - b).slice(0, EXAMPLES);
      for (const k of ex) {
        examples.push({ setting: s.key, index: attackedIdx[k]!, label: labelsAtt[k]!, cleanPrediction: labelsAtt[k]!, adversarialPrediction: advPred[k]!,
          clean: cleanAtt.slice(k * per, (k + 1) * per), adversarial: adv.slice(k * per, (k + 1) * per) });
      }
      if (o.saveAdversarial) {
        const f = join(dir, 'npy', `${s.file}.npy`);
        await writingOutput('--out', out, () => writeNpy(f, adv, [m, ...shape]));
        files.push(f);
      }
    }

    const report: AdversarialReport = {
      run: o.run, checkpoint: run.checkpoint, checkpoint_key: checkpointKey, epoch: run.epoch, model: run.config.model, strategy: run.config.strategy,
      protocol: PROTOCOL,
      settings: {
        split, images: n, attacks, eps: epsList, l2_eps: attacks.includes('pgd-l2') ? l2Eps : [], detectors, fit_fraction: fitFraction, seed, adaptive_weights: assignment ? weights : [],
        transfer: transfer && attacks.includes('fgsm'), fit_train_images: trainN, batch: batchSize,
        noise: 'per image: Gaussian noise scaled to the L2 norm of its adversarial perturbation, added to the clean image, clamped to [0, 1]',
        cw: attacks.includes('cw') ? 'CW (L2) has no eps: run once with its own options' : 'not run',
      },
      classes: ds.classNames,
      clean: { images: n, correct: m, accuracy: m / n },
      split: { fit_images: Array.from(isFit.keys()).filter((i) => isFit[i]), eval_images: n - isFit.reduce((a, b) => a + b, 0) },
      attacks: results,
      transfer: transfers,
    };
    files.unshift(...await writingOutput('--out', out, async () => {
      const written = await writeAdversarialReport(report, examples, shape, dir);
      stage!.commit();
      return written;
    }));
    return { report, files: files.map((f) => stage!.final(f, out)) };
  } finally {
    stage?.discard();
    // The run was opened here: its model and gate go too, so memory stays flat over repeated calls.
    for (const d of dets) (d as { dispose?: () => void }).dispose?.();
    for (const t of held) t.dispose();
    gate?.dispose();
    pm.dispose();
    model.dispose();
    run.gate?.weight.dispose();
  }
}

function auroc(d: DetectorOutcome | undefined): string {
  return d && 'auroc' in d ? d.auroc.toFixed(3) : 'n/a';
}

/** Whether a detector learns anything in fit() (the gate score needs no fitting). */
function fits(d: Detector): boolean {
  return d.fit !== Detector.prototype.fit;
}

function toTensor(x: Float32Array, count: number, shape: number[]): Tensor {
  return torch.fromTypedArray(x.subarray(0, count * shape.reduce((a, b) => a * b, 1)), [count, ...shape]);
}

function scores(d: Detector, x: Float32Array, count: number, shape: number[], batchSize: number): Float64Array {
  const per = shape.reduce((a, b) => a * b, 1), out = new Float64Array(count);
  for (let s = 0; s < count; s += batchSize) {
    const b = Math.min(batchSize, count - s);
    const part = torch.tidy(() => d.score(toTensor(x.subarray(s * per), b, shape)));
    if (part.length !== b) throw new Error(`the ${d.name} detector returned ${part.length} scores for ${b} images`);
    out.set(part, s);
  }
  return out;
}

/** Fits each detector on `fit` (where it learns) and scores `test`: metrics, or why there are none. */
function evaluateDetectors(dets: Detector[], fit: Samples, test: Samples, shape: number[], batchSize: number): Partial<Record<DetectorName, DetectorOutcome>> {
  const res: Partial<Record<DetectorName, DetectorOutcome>> = {};
  for (const d of dets) {
    if (test.count === 0) { res[d.name] = { skipped: 'no selected image in the reported part' }; continue; }
    if (fits(d)) {
      if (fit.count === 0) { res[d.name] = { skipped: 'no selected image in the fitting part' }; continue; }
      const per = shape.reduce((a, b) => a * b, 1), f = fit.count;
      const x = new Float32Array(3 * f * per);
      x.set(fit.clean, 0); x.set(fit.noisy, f * per); x.set(fit.adv, 2 * f * per);
      const flags = new Uint8Array(3 * f).fill(1, 2 * f);
      torch.tidy(() => d.fit(toTensor(x, 3 * f, shape), flags));
    }
    const c = test.count;
    const all = new Float64Array(3 * c), labels = new Uint8Array(3 * c).fill(1, 2 * c);
    all.set(scores(d, test.clean, c, shape, batchSize), 0);
    all.set(scores(d, test.noisy, c, shape, batchSize), c);
    all.set(scores(d, test.adv, c, shape, batchSize), 2 * c);
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
