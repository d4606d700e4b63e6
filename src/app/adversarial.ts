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
import { BatchLoader, Rng, mixSeed } from '../data/index.js';
import { openRun, runDataset } from '../csg/run.js';
import { ATTACK_NAMES, UNBOUNDED_ATTACKS, PixelModel, createAttack, defaultAttackOptions, type AttackName, type AttackOptions } from '../attack/index.js';
import { DETECTOR_NAMES, Detector, KdBuDetector, LidDetector, createDetector, gateConsistency, type DetectorContext, type DetectorName } from '../detect/index.js';
import { FilterClassStats } from '../explain/filter_stats.js';
import { writeNpy } from '../io/npy.js';
import { analysisKey } from './analysis_key.js';
import { ADVERSARIAL_FILE, ADVERSARIAL_MARKDOWN, RunDir } from '../csg/run_dir.js';
import type { AdversarialReport, SettingResult, TransferResult } from '../csg/results.js';
import { attackImages, auroc, disposeSamples, evaluateDetectors, noisyCopies, scoreSetting, selectImages, trainImages, type Samples, type Selection } from './adversarial_stages.js';
import { MIN_REPORTED, writeAdversarialReport, type AdversarialExample } from './adversarial_report.js';
import { checkOutputDir, writingOutput } from './outputs.js';
import { StagedDir } from '../util/staged_dir.js';

import { ADVERSARIAL_DEFAULTS as D } from './defaults.js';

export const DEFAULT_EPS = D.eps;
export const DEFAULT_ADAPTIVE_WEIGHTS = D.adaptiveWeights;
export const DEFAULT_LIMIT = D.limit;
/** What adversarial writes into its --out folder: an existing folder holding only these is replaced. */
export const ADVERSARIAL_FILES = [ADVERSARIAL_FILE, ADVERSARIAL_MARKDOWN, 'roc.svg', 'roc.png', 'examples.png', 'npy'];
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
  /** Training images the detectors' statistics use (Mahalanobis Gaussians, kdbu's densities, STD assignment); default 10000. */
  fitTrainLimit?: number;
  /** Weights w of the adaptive attack on the gate detector (PGD maximizing CE + w s(x)); [] = none. */
  adaptiveWeights?: readonly number[];
  /** kdbu's kernel bandwidth (default 1.20 grey, 0.26 colour: Feinman et al.'s MNIST and CIFAR-10 values). */
  kdBandwidth?: number;
  /** lid's nearest neighbours (default 20). */
  lidK?: number;
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

interface Setting { key: string; file: string; attack: AttackName | 'pgd-adaptive'; eps: number | null; weight: number | null }

export async function adversarialRun(o: AdversarialOptions): Promise<{ report: AdversarialReport; files: string[] }> {
  // Flags first: a typo costs no model load.
  const attacks = checkNames('--attacks', o.attacks, ATTACK_NAMES, D.attacks);
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
  if (o.kdBandwidth !== undefined && !(o.kdBandwidth > 0 && Number.isFinite(o.kdBandwidth))) throw new Error(`--kd-bandwidth: expected a number > 0, got ${o.kdBandwidth}`);
  if (o.lidK !== undefined && !(Number.isInteger(o.lidK) && o.lidK >= 1)) throw new Error(`--lid-k: expected a positive integer, got ${o.lidK}`);
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
  const shape = [ds.channels, ds.height, ds.width];
  const model = run.model;
  model.eval();
  // The run's training normalization (ds carries it), as every command uses it.
  const pm = new PixelModel(model, ds.mean, ds.std);
  const gate = run.gate ? torch.keep(run.gate.weight.detach()) : null;
  const held: Tensor[] = [];
  let dets: Detector[] = [];
  let sel: Selection | null = null;
  // FGSM's fitting samples per eps, for the transfer runs (freed at the end).
  const fgsmFit = new Map<number, { samples: Samples; key: string }>();
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
    sel = selectImages(pm, ds, n, batchSize);
    const { indices: attackedIdx, labels: labelsAtt } = sel;
    const m = attackedIdx.length;
    log(`${n} images of ${ds.name} (${split}): ${m} classified correctly (${(100 * m / Math.max(1, n)).toFixed(1)} %)`);
    if (m === 0) throw new Error(`no image of the first ${n} of the ${split} split is classified correctly: nothing to attack`);

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
    const ctx: DetectorContext = { model: pm, gate, trainBatches, log };
    dets = detectors.map((name) => createDetector(name, { batchSize, kdBandwidth: o.kdBandwidth, lidK: o.lidK }));
    for (const d of dets) { log(`preparing the ${d.name} detector on ${trainN} training images`); d.prepare(ctx); await stopIfAsked(); }

    // The settings: each attack at each of its radii (CW once), then the adaptive PGD per weight and eps.
    const settings: Setting[] = [];
    const l2Eps = l2Given ?? [defaultAttackOptions('pgd-l2', { channels: ds.channels, height: ds.height }).eps!];
    for (const a of attacks) {
      if (UNBOUNDED_ATTACKS.includes(a)) settings.push({ key: a, file: a, attack: a, eps: null, weight: null });
      else for (const e of a === 'pgd-l2' ? l2Eps : epsList) settings.push({ key: `${a}@${e}`, file: `${a}_eps${e}`, attack: a, eps: e, weight: null });
    }
    // The adaptive attack's filter-to-class matrix: G, or an STD model's assignment by mean activation.
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

    const setting: SettingContext = { pm, dets, detectors, sel, isFit, batchSize, seed, dims: { channels: ds.channels, height: ds.height }, assignment, transfer,
      fgsmFit, results, transfers, examples, log, between: async (b) => { done += b; o.progress?.(done, total); await stopIfAsked(); } };
    for (const [si, s] of settings.entries()) {
      await runSetting(setting, s, si, o.saveAdversarial ? async (adv) => {
        const f = join(dir, 'npy', `${s.file}.npy`);
        await writingOutput('--out', out, () => writeNpy(f, adv, [m, ...shape]));
        files.push(f);
      } : null);
    }

    const report: AdversarialReport = {
      run: o.run, checkpoint: run.checkpoint, checkpointKey, epoch: run.epoch, model: run.config.model, strategy: run.config.strategy,
      protocol: PROTOCOL,
      settings: {
        split, images: n, attacks, eps: epsList, l2_eps: attacks.includes('pgd-l2') ? l2Eps : [], detectors, fit_fraction: fitFraction, seed, adaptive_weights: assignment ? weights : [],
        transfer: transfer && attacks.includes('fgsm'), fit_train_images: trainN, batch: batchSize,
        noise: 'per image: Gaussian noise scaled to the L2 norm of its adversarial perturbation, added to the clean image, clamped to [0, 1]',
        cw: attacks.includes('cw') ? 'CW (L2) has no eps: run once with its own options' : 'not run',
        ...detectorOptions(dets),
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
    for (const f of fgsmFit.values()) disposeSamples(f.samples);
    sel?.dispose();
    gate?.dispose();
    pm.dispose();
    model.dispose();
    run.gate?.weight.dispose();
  }
}

/** kdbu's and lid's settings for adversarial.json (none when neither ran). */
function detectorOptions(dets: Detector[]): { detector_options?: AdversarialReport['settings']['detector_options'] } {
  const kd = dets.find((d): d is KdBuDetector => d instanceof KdBuDetector), lid = dets.find((d): d is LidDetector => d instanceof LidDetector);
  if (!kd && !lid) return {};
  return { detector_options: {
    ...(kd ? { kdbu: { bandwidth: kd.bandwidth, uncertainty: kd.usesUncertainty } } : {}),
    ...(lid ? { lid: { k: lid.k, minibatch: lid.minibatch, layers: lid.layerNames.length ? lid.layerNames : [...lid.blocks, 'logits'] } } : {}),
  } };
}

/** What every setting shares: the model, detectors, selection and split, and where its results go. */
interface SettingContext {
  pm: PixelModel; dets: Detector[]; detectors: DetectorName[]; sel: Selection; isFit: Uint8Array; batchSize: number; seed: number;
  dims: { channels: number; height: number }; assignment: Tensor | null; transfer: boolean;
  fgsmFit: Map<number, { samples: Samples; key: string }>;
  results: SettingResult[]; transfers: TransferResult[]; examples: AdversarialExample[];
  log: (line: string) => void;
  /** After each attacked batch: progress and a stop. */
  between: (count: number) => Promise<void>;
}

/** One setting through the stages: attack, noisy copies, score (and transfer); `save` writes its adversarial images. */
async function runSetting(c: SettingContext, s: Setting, si: number, save: ((adv: Float32Array) => Promise<void>) | null): Promise<void> {
  const { pm, dets, detectors, sel, isFit, batchSize, seed, transfer, fgsmFit, results, transfers, examples, log } = c;
  const { indices: attackedIdx, labels: labelsAtt } = sel;
  const m = attackedIdx.length;
  const base = s.attack === 'pgd-adaptive' ? 'pgd' : s.attack;
  const opts: AttackOptions = { ...defaultAttackOptions(base, c.dims, s.eps ?? undefined), seed };
  if (s.weight !== null) {
    const w = s.weight, g = c.assignment!;
    // The attacker maximizes CE + w * s(x): misclassified, yet looking consistent to the gate detector.
    opts.loss = (x01, logits, labels) => torch.F.crossEntropy(logits, labels).add(gateConsistency(pm, g, x01).mean().mul(w));
  }
  const attack = createAttack(base, pm, opts);
  const a = await attackImages(attack, sel, batchSize, c.between);
  const keepFit = transfer && s.attack === 'fgsm' && s.eps !== null;
  let noisy: Tensor | null = null;
  let scored: { fit: Samples; eval: Samples } | null = null;
  try {
    const rng = new Rng(mixSeed(seed, 0x401, si));
    noisy = noisyCopies(sel.clean, a.l2, () => rng.normal(), batchSize);
    const sc = scoreSetting(pm, dets, sel, a, noisy, isFit, batchSize);
    scored = sc;
    if (keepFit) fgsmFit.set(s.eps!, { samples: sc.fit, key: s.key });
    const { fitRows, evalRows, outcomes } = sc;
    const { loss: _loss, ...shownOptions } = opts;
    const successful = a.summary.succeeded;
    const r: SettingResult = {
      key: s.key, attack: s.attack, eps: s.eps, adaptive_weight: s.weight, options: shownOptions as Record<string, unknown>,
      attacked: m, successful, success_rate: a.summary.successRate,
      mean_linf: successful ? a.summary.meanLinf : null, mean_l2: successful ? a.summary.meanL2 : null,
      queries_per_image: a.summary.queriesPerImage, seconds: a.summary.seconds,
      selected: fitRows.length + evalRows.length,
      fit: { images: fitRows.length, samples: 3 * fitRows.length }, eval: { images: evalRows.length, samples: 3 * evalRows.length },
      detectors: outcomes,
    };
    results.push(r);
    if (evalRows.length < MIN_REPORTED) {
      log(`warning: ${s.key}: ${evalRows.length} reported images (samples per class), fewer than ${MIN_REPORTED}: its detector metrics are unreliable`);
    }
    log(`${s.key}: success ${(100 * r.success_rate).toFixed(1)} % of ${m} (${r.queries_per_image!.toFixed(1)} queries per image, ${r.seconds!.toFixed(1)} s), selected ${r.selected} (fit ${fitRows.length}, report ${evalRows.length}); AUROC ` +
      detectors.map((d) => `${d} ${auroc(outcomes[d])}`).join(', '));

    if (transfer && (s.attack === 'pgd' || s.attack === 'cw')) {
      const sources = s.attack === 'cw' ? [...fgsmFit.values()] : (fgsmFit.has(s.eps!) ? [fgsmFit.get(s.eps!)!] : []);
      for (const src of sources) transfers.push({ fit: src.key, test: s.key, detectors: evaluateDetectors(dets, src.samples, sc.eval, batchSize) });
    }

    const ex = [...fitRows, ...evalRows].sort((x, y) => x - y).slice(0, EXAMPLES);
    for (const k of ex) {
      examples.push({ setting: s.key, index: attackedIdx[k]!, label: labelsAtt[k]!, cleanPrediction: labelsAtt[k]!, adversarialPrediction: a.predicted[k]!,
        clean: sel.clean.narrow(0, k, 1).data() as Float32Array, adversarial: a.adv.narrow(0, k, 1).data() as Float32Array });
    }
    if (save) await save(a.adv.data() as Float32Array);
  } finally {
    a.adv.dispose();
    noisy?.dispose();
    if (scored && !keepFit) disposeSamples(scored.fit);
    if (scored) disposeSamples(scored.eval);
  }
}
