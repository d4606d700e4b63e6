// Continuing a run: the config it resumes with (defaults for runs saved before a knob existed, the
// RESUMABLE_KEYS a resume may change), what a checkpoint holds of the trainer and how it is put back,
// and the repair of a run folder after a crash (metrics.jsonl, a best copy that missed its rename).
import { existsSync } from 'node:fs';
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import type { MultiStepLR, Optimizer } from '../torch/optim/index.js';
import type { CsgBackbone } from '../models/types.js';
import type { ClassSpecificGate } from './gate.js';
import { schedulePlan } from './schedule.js';
import { validateConfig, type TrainConfig } from './config.js';
import { RESUMABLE_KEYS } from './train_options.js';
import { addPrefix, loadSnapshot, withPrefix, type Snapshot } from './checkpoint.js';
import type { EpochMetrics, RunDir } from './run_dir.js';
import { TrainingError, type ResumeOptions } from './trainer_options.js';
import { checkWorldSize, isLeaderOf } from './trainer_setup.js';

/** Running sums of the current epoch (a mid-epoch checkpoint keeps them). */
export interface EpochStats { lossSum: number; ceSum: number; regSum: number; correct: number; n: number; seconds: number }
export const emptyStats = (): EpochStats => ({ lossSum: 0, ceSum: 0, regSum: 0, correct: 0, n: 0, seconds: 0 });

/** Where training stands: every checkpoint saves it. */
export interface Progress {
  epoch: number;
  nextBatch: number;
  stats: EpochStats;
  bestValAcc: number;
  /** The epoch count whose end-of-epoch checkpoint is the best one (null before any). */
  bestEpoch: number | null;
  /** Metrics of every finished epoch, mirrored by metrics.jsonl. */
  history: EpochMetrics[];
}

/** The trained state a checkpoint holds besides the progress. */
export interface TrainedState {
  model: CsgBackbone;
  gate: ClassSpecificGate | null;
  /** The distinct optimizers by checkpoint name. */
  optimizers: [string, Optimizer][];
  stdSched: MultiStepLR;
  /** null when it is the shared one (stdSched). */
  csgSched: MultiStepLR | null;
}

/**
 * The config a resumed run continues with (its own config.json, defaults for knobs it predates, the
 * overrides) and its last checkpoint (null when it was killed before the first: it starts again).
 */
export function resumeConfig(dir: RunDir, opts: ResumeOptions): { config: TrainConfig; snap: Snapshot | null } {
  const saved = dir.readConfig();
  if (!saved?.train || !saved?.dataset) throw new TrainingError(`${dir.configFile}: missing "train" or "dataset" section`);
  // Runs saved before a knob existed get the value they ran with.
  const config: TrainConfig = { workers: 0, checkpointEvery: 0, augment: 'per-sample', worldSize: 1, syncBn: false, ...saved.train };
  checkWorldSize(config, opts.group, opts.outDir);
  for (const [k, v] of Object.entries(opts.overrides ?? {})) {
    if (!(RESUMABLE_KEYS as readonly string[]).includes(k)) throw new TrainingError(`a resumed run cannot change ${k}`);
    if (v !== undefined) (config as any)[k] = v;
  }
  validateConfig(config);
  const snap = existsSync(dir.checkpoint('last')) ? loadSnapshot(dir.checkpoint('last')) : null;
  const done = snap ? snap.state.epoch as number : 0;
  if (config.epochs < done) {
    throw new TrainingError(`--epochs ${config.epochs} is fewer than the ${done} epochs ${opts.outDir} has already trained`);
  }
  if (config.epochs !== saved.train.epochs && isLeaderOf(opts.group)) {
    saved.train.epochs = config.epochs;
    saved.schedule = schedulePlan(config.epochs, config);
    dir.writeConfig(saved);
  }
  return { config, snap };
}

/** Everything needed to continue exactly: weights, gate, optimizer/scheduler state, RNG, progress. */
export function snapshotOf(t: TrainedState, p: Progress): Snapshot {
  const tensors: Record<string, Tensor> = { ...addPrefix(t.model.stateDict(), 'model') };
  if (t.gate) tensors['gate'] = t.gate.weight;
  const optState: Record<string, unknown> = {};
  for (const [name, o] of t.optimizers) {
    const flat = o.toFlat('');
    Object.assign(tensors, addPrefix(flat.tensors, `optim.${name}`));
    optState[name] = flat.json;
  }
  const rng = torch.getRngState();
  tensors['rng.torch'] = rng;
  return {
    tensors,
    state: {
      epoch: p.epoch, nextBatch: p.nextBatch, stats: p.stats, bestValAcc: p.bestValAcc, bestEpoch: p.bestEpoch,
      history: p.history, optimizers: optState,
      schedulers: { std: t.stdSched.stateDict(), csg: t.csgSched ? t.csgSched.stateDict() : null },
    },
  };
}

/**
 * Puts a snapshot's tensors into `t` (and disposes them) and returns its progress; `readMetrics` gives
 * the history of checkpoints written before it was kept in them.
 */
export function restoreSnapshot(t: TrainedState, snap: Snapshot, readMetrics: () => EpochMetrics[]): Progress {
  const s = snap.state;
  t.model.loadStateDict(withPrefix(snap.tensors, 'model'), { strict: true });
  if (t.gate) {
    if (!snap.tensors['gate']) throw new Error('checkpoint has no gate tensor but the run uses the csg strategy');
    torch.noGrad(() => t.gate!.weight.copy_(snap.tensors['gate']));
  }
  for (const [name, o] of t.optimizers) o.fromFlat(withPrefix(snap.tensors, `optim.${name}`), s.optimizers[name], '');
  t.stdSched.loadStateDict(s.schedulers.std);
  if (s.schedulers.csg && t.csgSched) t.csgSched.loadStateDict(s.schedulers.csg);
  torch.setRngState(snap.tensors['rng.torch']);
  const progress: Progress = {
    epoch: s.epoch, nextBatch: s.nextBatch, stats: s.stats, bestValAcc: s.bestValAcc, bestEpoch: s.bestEpoch ?? null,
    // Checkpoints written before the history was kept in them: the metrics lines up to their epoch.
    history: s.history ?? readMetrics().filter((m) => m.epoch < s.epoch),
  };
  for (const tensor of Object.values(snap.tensors)) tensor.dispose();
  return progress;
}

/** After a crash: metrics.jsonl mirrors the checkpoint's history, and a best copy that missed its rename is redone. */
export function repairRunDir(dir: RunDir, history: EpochMetrics[], bestEpoch: number | null, log: (s: string) => void): void {
  dir.syncMetrics(history);
  if (bestEpoch === null) return;
  const best = dir.checkpointEpoch('best');
  if (best && best.epoch === bestEpoch && best.nextBatch === 0) return;
  const last = dir.checkpointEpoch('last');
  if (last && last.epoch === bestEpoch && last.nextBatch === 0) {
    dir.copyLastToBest();
    log(`repaired ${dir.checkpoint('best')} (epoch ${bestEpoch}) from the last checkpoint`);
  }
}
