// The CSG trainer (method.md sections 1-3): STD and CSG paths alternating per epoch, one optimizer
// for both paths or one per path, a gate with its hinge penalty and row-max projection, per-epoch
// metrics, crash-safe checkpoints (RunDir), exact resume, stop on an AbortSignal, and a NaN guard.
// It reports through the events its caller passes in; it never touches the process (signals, exit).
// Given a process group (TrainOptions.group) it trains data-parallel (data_parallel.ts): every rank
// runs the same loop on its shard, and rank 0 alone writes the run folder.
import { existsSync } from 'node:fs';
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { SGD, Adam, AdamW, MultiStepLR, type Optimizer } from '../torch/optim/index.js';
import { loadSafetensors } from '../torch/io/safetensors.js';
import { inChildren, type CsgBackbone } from '../models/types.js';
import { BatchLoader, loadDataset, splitDataset, type ImageDataset } from '../data/index.js';
import { faultPoint } from '../util/faults.js';
import type { ClassSpecificGate } from './gate.js';
import { createModelAndGate } from './model.js';
import { trainStep, NonFiniteLossError, type StepResult } from './step.js';
import { epochPath, schedulePlan, type Path } from './schedule.js';
import { CHECKPOINT_SECONDS, validateConfig, type OptimizerConfig, type TrainConfig } from './config.js';
import { RESUMABLE_KEYS, type ResumeOverrides } from './train_options.js';
import { forEachBatch } from './run.js';
import { addPrefix, loadSnapshot, saveSnapshot, withPrefix, type Snapshot } from './checkpoint.js';
import { RunDir, readMetrics, type EpochMetrics } from './run_dir.js';
import { DataParallel } from './data_parallel.js';
import type { ProcessGroup } from '../torch/distributed.js';

export { readMetrics, type EpochMetrics };

/** Why run() returned or threw: done, the AbortSignal, RunOptions.stopAfterEpochs, or an exception. */
export type StopReason = 'finished' | 'interrupted' | 'stop-after' | 'error';

export interface RunStartInfo {
  runDir: string;
  config: TrainConfig;
  epochs: number;
  /** Where this call starts: epoch and batch (both 0 for a new run). */
  startEpoch: number;
  startBatch: number;
  /** Whether the trainer came from Trainer.resume. */
  resumed: boolean;
  batchesPerEpoch: number;
}

export interface StopInfo {
  reason: StopReason;
  /** Progress at the stop: finished epochs and the next batch of the current one. */
  epoch: number;
  nextBatch: number;
  /** The AbortSignal's reason (e.g. 'SIGINT') when interrupted, the message on an error. */
  detail?: string;
}

/** What the trainer reports while it runs; every callback is optional. */
export interface TrainEvents {
  runStart?(info: RunStartInfo): void;
  stop?(info: StopInfo): void;
  epochStart?(info: { epoch: number; epochs: number; path: Path; batches: number; startBatch: number }): void;
  batch?(info: { batch: number; loss: number; acc: number; images: number }): void;
  epochEnd?(m: EpochMetrics): void;
  checkpoint?(info: { file: string; epoch: number; nextBatch: number }): void;
}

/** One TrainEvents that calls each of `list` in order (e.g. a progress bar and the events.jsonl writer). */
export function combineEvents(...list: (TrainEvents | undefined)[]): TrainEvents {
  const all = list.filter((e): e is TrainEvents => !!e);
  const each = <K extends keyof TrainEvents>(k: K) => (info: any) => { for (const e of all) (e[k] as ((i: any) => void) | undefined)?.(info); };
  return { runStart: each('runStart'), stop: each('stop'), epochStart: each('epochStart'), batch: each('batch'), epochEnd: each('epochEnd'), checkpoint: each('checkpoint') };
}

export interface TrainOptions {
  outDir: string;
  /** Where human-readable lines go (default stderr). */
  log?: (line: string) => void;
  /** Train data-parallel over this group (its world size must be the config's worldSize). Rank 0
   *  writes the run folder; the other ranks only read it (to resume, it must be the same folder). */
  group?: ProcessGroup;
}

export interface ResumeOptions extends TrainOptions {
  /** Settings the continued run may change (RESUMABLE_KEYS): e.g. more epochs to extend a finished run. */
  overrides?: ResumeOverrides;
}

export interface RunOptions {
  /** Stop (with a checkpoint) after this many epochs in this call, as if interrupted. */
  stopAfterEpochs?: number;
  /** When aborted, the trainer finishes the current batch, saves a checkpoint and returns (interrupted). */
  signal?: AbortSignal;
  events?: TrainEvents;
}

export interface TrainResult {
  runDir: string;
  completed: boolean;
  interrupted: boolean;
  metrics: EpochMetrics[];
}

export class TrainingError extends Error {}

interface EpochStats { lossSum: number; ceSum: number; regSum: number; correct: number; n: number; seconds: number }
const emptyStats = (): EpochStats => ({ lossSum: 0, ceSum: 0, regSum: 0, correct: 0, n: 0, seconds: 0 });

/** Parameters of the top `trainTop` children of the model (all when 'all'), by name. */
export function trainableParameters(model: CsgBackbone, trainTop: 'all' | number): [string, Tensor][] {
  const all = [...model.namedParameters()];
  if (trainTop === 'all') return all;
  const children = model.topChildren();
  if (trainTop > children.length) throw new Error(`trainTop ${trainTop} exceeds the model's ${children.length} top-level children (${children.join(', ')})`);
  const top = children.slice(children.length - trainTop);
  return all.filter(([name]) => inChildren(name, top));
}

function makeOptimizer(cfg: OptimizerConfig, params: Tensor[]): Optimizer {
  switch (cfg.name) {
    case 'sgd': return new SGD(params, { lr: cfg.lr, momentum: cfg.momentum, nesterov: cfg.nesterov, weightDecay: cfg.weightDecay });
    case 'adam': return new Adam(params, { lr: cfg.lr, weightDecay: cfg.weightDecay });
    case 'adamw': return new AdamW(params, { lr: cfg.lr, weightDecay: cfg.weightDecay });
  }
}

/** Loads backbone weights with torchvision names, skipping tensors whose shape differs (e.g. fc). */
export function loadPretrained(model: CsgBackbone, file: string, log: (s: string) => void): void {
  const { tensors } = loadSafetensors(file);
  const own = new Map(Object.entries(model.stateDict()));
  const use: Record<string, Tensor> = {};
  const skipped: string[] = [];
  for (const [k, v] of Object.entries(tensors)) {
    const mine = own.get(k);
    if (mine && mine.shape.join() === v.shape.join()) use[k] = v;
    else skipped.push(k);
  }
  if (!Object.keys(use).length) throw new Error(`${file}: no tensor matches the model's parameter names (expected torchvision names such as ${[...own.keys()][0]})`);
  model.loadStateDict(use, { strict: false });
  log(`pretrained: loaded ${Object.keys(use).length} tensors from ${file}` + (skipped.length ? `, skipped ${skipped.length} (${skipped.slice(0, 4).join(', ')}${skipped.length > 4 ? ', ...' : ''})` : ''));
  for (const t of Object.values(tensors)) t.dispose();
}

export class Trainer {
  readonly model: CsgBackbone;
  readonly gate: ClassSpecificGate | null;
  readonly stdOpt: Optimizer;
  readonly csgOpt: Optimizer;
  readonly gateOpt: Optimizer | null;
  readonly stdSched: MultiStepLR;
  readonly csgSched: MultiStepLR;
  readonly trainLoader: BatchLoader;
  readonly valSet: ImageDataset;
  private readonly stdParams: Set<Tensor>;
  private readonly csgParams: Set<Tensor>;
  epoch = 0;
  nextBatch = 0;
  stats: EpochStats = emptyStats();
  bestValAcc = -1;
  /** The epoch count whose end-of-epoch checkpoint is the best one (null before any). */
  bestEpoch: number | null = null;
  /** Metrics of every finished epoch: saved in each checkpoint, mirrored by metrics.jsonl. */
  history: EpochMetrics[] = [];
  readonly runDir: string;
  /** Whether this trainer continues a run (Trainer.resume), reported in the runStart event. */
  resumed = false;

  /** The data-parallel side of training (null in a single process). */
  readonly dp: DataParallel | null;
  private readonly valShard: ImageDataset | null;
  /** Whether this process writes the run folder (always, unless it is a rank other than 0). */
  get isLeader(): boolean { return !this.dp || this.dp.isLeader; }

  private constructor(readonly config: TrainConfig, readonly dir: RunDir, train: ImageDataset, val: ImageDataset, readonly log: (s: string) => void,
    group: ProcessGroup | undefined) {
    const c = config;
    this.dp = group ? new DataParallel(group, { syncBn: c.syncBn, memoryFormat: c.memoryFormat }) : null;
    this.runDir = dir.dir;
    this.valSet = val;
    ({ model: this.model, gate: this.gate } = createModelAndGate(c, train));
    if (c.pretrained) loadPretrained(this.model, c.pretrained, log);
    const stdNamed = trainableParameters(this.model, c.std.trainTop);
    this.stdParams = new Set(stdNamed.map(([, p]) => p));
    this.stdOpt = makeOptimizer(c.std, stdNamed.map(([, p]) => p));
    const totalMilestones = c.milestones.map((f) => Math.floor(c.epochs * f));
    this.stdSched = new MultiStepLR(this.stdOpt, totalMilestones, c.gamma);
    if (c.separatePathOptimizers) {
      const csgNamed = trainableParameters(this.model, c.csg.trainTop);
      const params = csgNamed.map(([, p]) => p);
      if (this.gate && !c.gate) params.push(this.gate.weight);
      this.csgParams = new Set(csgNamed.map(([, p]) => p));
      this.csgOpt = makeOptimizer(c.csg, params);
      this.csgSched = new MultiStepLR(this.csgOpt, totalMilestones, c.gamma);
    } else {
      this.csgParams = this.stdParams;
      this.csgOpt = this.stdOpt;
      this.csgSched = this.stdSched;
    }
    this.gateOpt = this.gate && c.gate ? makeOptimizer(c.gate, [this.gate.weight]) : null;
    this.trainLoader = new BatchLoader(train, {
      batchSize: c.batchSize, shuffle: true, seed: c.seed, cropPadding: c.cropPadding, hflip: c.hflip, augment: c.augment, limit: c.limit || undefined,
      shard: this.dp?.shard,
    });
    this.valShard = this.dp ? this.dp.evaluationShard(val, c.valLimit) : null;
  }

  /** The tensors each path trains, for the gradient reducers: the path's parameters, plus G on CSG epochs. */
  private trainedPerPath(): Partial<Record<Path, Tensor[]>> {
    const c = this.config;
    const inOrder = (set: Set<Tensor>) => this.model.parameters().filter((p) => set.has(p));
    const out: Partial<Record<Path, Tensor[]>> = {};
    if (c.strategy === 'std' || c.warmup > 0 || c.phaseMin > 0) out.std = inOrder(this.stdParams);
    if (this.gate) out.csg = [...inOrder(this.csgParams), this.gate.weight];
    return out;
  }

  /** Starts a new run in opts.outDir (a new or empty folder), which stays locked until run() ends or close(). */
  static async create(config: TrainConfig, opts: TrainOptions): Promise<Trainer> {
    validateConfig(config);
    checkWorldSize(config, opts.group, 'the configuration');
    const dir = new RunDir(opts.outDir);
    if (isLeader(opts.group)) dir.createNew();
    return Trainer.build(config, dir, opts, null, false);
  }

  /**
   * Continues the run in opts.outDir from its last checkpoint, with its own config.json; only the
   * RESUMABLE_KEYS may change. A run killed before its first checkpoint starts again from the beginning.
   */
  static async resume(opts: ResumeOptions): Promise<Trainer> {
    const dir = new RunDir(opts.outDir);
    if (isLeader(opts.group)) dir.openExisting();
    else dir.checkReadable();
    try {
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
      if (config.epochs !== saved.train.epochs && isLeader(opts.group)) {
        saved.train.epochs = config.epochs;
        saved.schedule = schedulePlan(config.epochs, config);
        dir.writeConfig(saved);
      }
      return await Trainer.build(config, dir, opts, snap, true);
    } catch (e) {
      dir.release();
      throw e;
    }
  }

  private static async build(config: TrainConfig, dir: RunDir, opts: TrainOptions, snap: Snapshot | null, resumed: boolean): Promise<Trainer> {
    const log = opts.log ?? ((s: string) => process.stderr.write(s + '\n'));
    try {
      if (config.threads) torch.setNumThreads(config.threads);
      torch.manualSeed(config.seed);
      let train = await loadDataset(config.dataset, { root: config.dataRoot, split: 'train', size: config.imageSize, canvas: config.canvas, distractors: config.distractors });
      let val: ImageDataset;
      if (config.valFraction > 0) ({ train, val } = splitDataset(train, config.valFraction, config.seed));
      else {
        // The test split is normalised with the training statistics, as every later command does.
        const test = await loadDataset(config.dataset, { root: config.dataRoot, split: 'test', size: config.imageSize, canvas: config.canvas, distractors: config.distractors });
        val = { ...test, mean: [...train.mean], std: [...train.std] };
      }
      const trainer = new Trainer(config, dir, train, val, log, opts.group);
      trainer.resumed = resumed;
      if (snap) trainer.restore(snap);
      if (trainer.dp) await trainer.joinGroup();
      if (!dir.isRun() && trainer.isLeader) {
        dir.writeConfig({
          train: config, dataset: { name: train.name, classes: train.classNames, channels: train.channels, height: train.height, width: train.width,
            mean: train.mean, std: train.std, trainSize: trainer.trainLoader.totalSize, valSize: val.length },
          schedule: schedulePlan(config.epochs, config), libtorch: torch.libtorchVersion(), created: new Date().toISOString(),
        });
      }
      if (trainer.isLeader) trainer.repairRunDir();
      return trainer;
    } catch (e) {
      dir.release();
      throw e;
    }
  }

  /** After a crash: metrics.jsonl mirrors the checkpoint's history, and a best copy that missed its rename is redone. */
  private repairRunDir(): void {
    this.dir.syncMetrics(this.history);
    if (this.bestEpoch === null) return;
    const best = this.dir.checkpointEpoch('best');
    if (best && best.epoch === this.bestEpoch && best.nextBatch === 0) return;
    const last = this.dir.checkpointEpoch('last');
    if (last && last.epoch === this.bestEpoch && last.nextBatch === 0) {
      this.dir.copyLastToBest();
      this.log(`repaired ${this.dir.checkpoint('best')} (epoch ${this.bestEpoch}) from the last checkpoint`);
    }
  }

  /**
   * Data parallel: every rank takes rank 0's weights and builds its gradient reducers, and all must
   * stand at the same epoch and batch (a resumed run read from the same folder everywhere).
   */
  private async joinGroup(): Promise<void> {
    const dp = this.dp!;
    dp.attach(this.model, this.gate, this.trainedPerPath());
    const [e, b, n] = await dp.sum([this.epoch, this.nextBatch, 1]);
    if (e !== this.epoch * n! || b !== this.nextBatch * n!) {
      throw new TrainingError(`rank ${dp.rank} of ${dp.worldSize} stands at epoch ${this.epoch}, batch ${this.nextBatch}, but the ranks disagree ` +
        `(their sums: epoch ${e}, batch ${b}); every rank must resume from the same run folder (${this.runDir}), on a shared file system`);
    }
  }

  /** Releases the run folder's lock (run() does this when it ends) and the data-parallel state. */
  close(): void {
    this.dp?.dispose();
    this.dir.release();
  }

  /** The distinct optimizers by checkpoint name (csg only when it is not the shared one). */
  private namedOptimizers(): [string, Optimizer][] {
    const all: [string, Optimizer | null][] = [['std', this.stdOpt], ['csg', this.csgOpt === this.stdOpt ? null : this.csgOpt], ['gate', this.gateOpt]];
    return all.filter((e): e is [string, Optimizer] => e[1] !== null);
  }

  /** Everything needed to continue exactly: weights, gate, optimizer/scheduler state, RNG, progress. */
  snapshot(): Snapshot {
    const tensors: Record<string, Tensor> = { ...addPrefix(this.model.stateDict(), 'model') };
    if (this.gate) tensors['gate'] = this.gate.weight;
    const optState: Record<string, unknown> = {};
    for (const [name, o] of this.namedOptimizers()) {
      const flat = o.toFlat('');
      Object.assign(tensors, addPrefix(flat.tensors, `optim.${name}`));
      optState[name] = flat.json;
    }
    const rng = torch.getRngState();
    tensors['rng.torch'] = rng;
    return {
      tensors,
      state: {
        epoch: this.epoch, nextBatch: this.nextBatch, stats: this.stats, bestValAcc: this.bestValAcc, bestEpoch: this.bestEpoch,
        history: this.history, optimizers: optState,
        schedulers: { std: this.stdSched.stateDict(), csg: this.csgSched === this.stdSched ? null : this.csgSched.stateDict() },
      },
    };
  }

  restore(snap: Snapshot): void {
    const s = snap.state;
    this.model.loadStateDict(withPrefix(snap.tensors, 'model'), { strict: true });
    if (this.gate) {
      if (!snap.tensors['gate']) throw new Error('checkpoint has no gate tensor but the run uses the csg strategy');
      torch.noGrad(() => this.gate!.weight.copy_(snap.tensors['gate']));
    }
    for (const [name, o] of this.namedOptimizers()) o.fromFlat(withPrefix(snap.tensors, `optim.${name}`), s.optimizers[name], '');
    this.stdSched.loadStateDict(s.schedulers.std);
    if (s.schedulers.csg && this.csgSched !== this.stdSched) this.csgSched.loadStateDict(s.schedulers.csg);
    torch.setRngState(snap.tensors['rng.torch']);
    this.epoch = s.epoch; this.nextBatch = s.nextBatch; this.stats = s.stats; this.bestValAcc = s.bestValAcc;
    this.bestEpoch = s.bestEpoch ?? null;
    // Checkpoints written before the history was kept in them: the metrics lines up to their epoch.
    this.history = s.history ?? this.dir.readMetrics().filter((m) => m.epoch < s.epoch);
    for (const t of Object.values(snap.tensors)) t.dispose();
  }

  private saveCheckpoint(events?: TrainEvents): void {
    if (!this.isLeader) return;
    const snap = this.snapshot();
    const file = this.dir.checkpoint('last');
    saveSnapshot(file, snap);
    // Model, gate and optimizer tensors are the live ones (not copies); only the RNG state is ours.
    snap.tensors['rng.torch'].dispose();
    this.lastSave = performance.now();
    events?.checkpoint?.({ file, epoch: this.epoch, nextBatch: this.nextBatch });
  }
  private lastSave = performance.now();

  /** Accuracy of the STD path (eval mode) on a dataset. */
  evaluate(ds: ImageDataset, limit = 0): number {
    let correct = 0, n = 0;
    forEachBatch(this.model, ds, (_gap, logits, labels) => {
      const pred = logits.argmax(1).to('int32').data() as Int32Array;
      for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) correct++;
      n += pred.length;
    }, { limit, memoryFormat: this.config.memoryFormat });
    return correct / Math.max(1, n);
  }

  private trainableFor(path: Path): void {
    // Only the current path's optimizer steps; switching requiresGrad off elsewhere saves backward work.
    const active = path === 'csg' ? this.csgParams : this.stdParams;
    for (const [, p] of this.model.namedParameters()) p.requiresGrad_(active.has(p));
  }

  private step(x: Tensor, y: Tensor, path: Path): StepResult {
    this.dp?.beforeStep(path);
    try {
      return trainStep({ model: this.model, gate: this.gate, optimizer: path === 'csg' ? this.csgOpt : this.stdOpt,
        gateOptimizer: this.gateOpt, lambda: this.config.lambda, rho: this.config.rho }, x, y, path);
    } catch (e) {
      if (!(e instanceof NonFiniteLossError)) throw e;
      const saved = this.dir.checkpointEpoch('last');
      throw new TrainingError(`loss is ${e.value} at epoch ${this.epoch}, batch ${this.nextBatch} (${path} path); stopped; ` +
        (saved ? `the last good checkpoint (epoch ${saved.epoch}, batch ${saved.nextBatch}) is kept at ${this.dir.checkpoint('last')}.`
          : 'no checkpoint had been saved yet.') + ' Try a lower learning rate.');
    }
  }

  /** Whether a mid-epoch checkpoint is due after this batch (--checkpoint-every, or every CHECKPOINT_SECONDS). */
  private midEpochCheckpointDue(): boolean {
    if (!this.isLeader) return false;
    if (this.nextBatch >= this.trainLoader.batchesPerEpoch) return false; // the epoch-end checkpoint follows
    const every = this.config.checkpointEvery;
    return every > 0 ? this.nextBatch % every === 0 : performance.now() - this.lastSave >= CHECKPOINT_SECONDS * 1000;
  }

  /**
   * Runs the remaining epochs. Resolves when done, when opts.signal aborts (after saving a checkpoint)
   * or when stopAfterEpochs is reached. The run folder is locked while it runs.
   */
  async run(opts: RunOptions = {}): Promise<TrainResult> {
    const c = this.config;
    const ev = opts.events ?? {};
    const metrics: EpochMetrics[] = [];
    const stopRequested = () => opts.signal?.aborted ?? false;
    const dp = this.dp;
    if (this.isLeader) this.dir.lock();
    this.lastSave = performance.now();
    let epochsThisRun = 0;
    let stopReported = false;
    let stopAgreed = false;
    const stopped = (reason: StopReason, result: TrainResult, detail?: string): TrainResult => {
      stopReported = true;
      ev.stop?.({ reason, epoch: this.epoch, nextBatch: this.nextBatch, ...(detail !== undefined ? { detail } : {}) });
      return result;
    };
    const abortReason = (): string | undefined => {
      const r = opts.signal?.reason;
      return r === undefined ? undefined : typeof r === 'string' ? r : r instanceof Error ? r.message : String(r);
    };
    try {
      ev.runStart?.({ runDir: this.runDir, config: c, epochs: c.epochs, startEpoch: this.epoch, startBatch: this.nextBatch, resumed: this.resumed,
        batchesPerEpoch: this.trainLoader.batchesPerEpoch });
      while (this.epoch < c.epochs) {
        const e = this.epoch;
        const path = epochPath(e, c);
        ev.epochStart?.({ epoch: e, epochs: c.epochs, path, batches: this.trainLoader.batchesPerEpoch, startBatch: this.nextBatch });
        this.model.train();
        this.trainableFor(path);
        let t0 = performance.now();
        let sinceYield = 0;
        for await (const b of this.trainLoader.batches(e, { startBatch: this.nextBatch, workers: c.workers })) {
          const r = torch.tidy(() => {
            const x = torch.fromTypedArray(b.x, b.shape).contiguous(c.memoryFormat);
            const y = torch.fromTypedArray(b.y, [b.y.length], { dtype: 'int64' });
            return this.step(x, y, path);
          });
          this.trainLoader.recycle(b); // x was copied into the tensor
          let n = b.y.length;
          let sums = [r.loss * n, r.ce * n, r.reg * n, r.correct, n];
          // Data parallel: the group's sums (every rank logs the same numbers) and its stop request.
          let stopNow = stopRequested();
          if (dp) {
            const all = await dp.sum([...sums, stopNow ? 1 : 0]);
            sums = all.slice(0, 5); n = sums[4]!; stopNow = all[5]! > 0;
          }
          this.stats.lossSum += sums[0]!; this.stats.ceSum += sums[1]!; this.stats.regSum += sums[2]!;
          this.stats.correct += sums[3]!; this.stats.n += n;
          this.nextBatch++;
          faultPoint('batch');
          ev.batch?.({ batch: this.nextBatch, loss: this.stats.lossSum / this.stats.n, acc: this.stats.correct / this.stats.n, images: n });
          if (this.midEpochCheckpointDue()) {
            const now = performance.now();
            this.stats.seconds += (now - t0) / 1000;
            t0 = now;
            this.saveCheckpoint(ev);
          }
          // Let signal handlers and timers run without slowing the loop.
          if (!dp) {
            if (++sinceYield >= 4) { sinceYield = 0; await new Promise((res) => setImmediate(res)); }
            stopNow = stopRequested();
          }
          if (stopNow) { stopAgreed = true; break; }
        }
        this.stats.seconds += (performance.now() - t0) / 1000;
        if (stopAgreed && this.nextBatch < this.trainLoader.batchesPerEpoch) {
          this.saveCheckpoint(ev);
          this.log(`saved ${this.dir.checkpoint('last')} at epoch ${e}, batch ${this.nextBatch}; continue with --resume`);
          return stopped('interrupted', { runDir: this.runDir, completed: false, interrupted: true, metrics }, abortReason());
        }
        // End of epoch: schedulers step on their own kind of epoch only (one shared optimizer steps every epoch).
        const lr: Record<string, number> = { std: this.stdOpt.paramGroups[0].lr };
        if (this.csgOpt !== this.stdOpt) lr.csg = this.csgOpt.paramGroups[0].lr;
        else if (c.strategy === 'csg') lr.csg = lr.std;
        if (this.gateOpt) lr.gate = this.gateOpt.paramGroups[0].lr;
        if (this.csgSched === this.stdSched) this.stdSched.step();
        else (path === 'csg' ? this.csgSched : this.stdSched).step();
        const val = await this.evaluateVal();
        const m: EpochMetrics = {
          epoch: e, path, train_loss: this.stats.lossSum / this.stats.n, train_ce: this.stats.ceSum / this.stats.n,
          train_reg: this.stats.regSum / this.stats.n, train_acc: this.stats.correct / this.stats.n, val_acc: val,
          density: this.gate ? this.gate.density() : null, lr, seconds: this.stats.seconds,
        };
        this.epoch = e + 1; this.nextBatch = 0; this.stats = emptyStats();
        this.history.push(m);
        const improved = val > this.bestValAcc;
        if (improved) { this.bestValAcc = val; this.bestEpoch = this.epoch; }
        // RunDir's order: checkpoint (holding the history), best copy, then the metrics line.
        this.saveCheckpoint(ev);
        if (this.isLeader) {
          if (improved) this.dir.copyLastToBest();
          this.dir.appendMetrics(m);
        }
        metrics.push(m);
        ev.epochEnd?.(m);
        this.log(`epoch ${e + 1}/${c.epochs} ${path}: loss ${m.train_loss.toFixed(4)} train_acc ${m.train_acc.toFixed(4)} val_acc ${m.val_acc.toFixed(4)}` +
          (m.density !== null ? ` density ${m.density.toFixed(4)}` : '') + ` (${m.seconds.toFixed(1)} s)`);
        epochsThisRun++;
        if (this.epoch < c.epochs) stopAgreed = dp ? await dp.anyStop(stopRequested()) : stopRequested();
        if (this.epoch < c.epochs && (stopAgreed || (opts.stopAfterEpochs && epochsThisRun >= opts.stopAfterEpochs))) {
          if (stopAgreed) this.log(`saved ${this.dir.checkpoint('last')} at the end of epoch ${e}; continue with --resume`);
          const interrupted = stopAgreed;
          return stopped(interrupted ? 'interrupted' : 'stop-after', { runDir: this.runDir, completed: false, interrupted, metrics },
            interrupted ? abortReason() : undefined);
        }
      }
      return stopped('finished', { runDir: this.runDir, completed: true, interrupted: false, metrics });
    } catch (e) {
      // Reported before the lock is released, so that a reader never sees an unlocked run without its end.
      if (!stopReported) ev.stop?.({ reason: 'error', epoch: this.epoch, nextBatch: this.nextBatch, detail: (e as Error)?.message ?? String(e) });
      throw e;
    } finally {
      await this.trainLoader.close();
      this.dir.release();
    }
  }

  /** Validation accuracy; data parallel, each rank counts its shard of rank 0's model and the counts are summed. */
  private async evaluateVal(): Promise<number> {
    if (!this.dp) return this.evaluate(this.valSet, this.config.valLimit);
    this.dp.beforeEvaluation();
    const shard = this.valShard!;
    const local = shard.length ? this.evaluate(shard) * shard.length : 0;
    const [correct, n] = await this.dp.sum([Math.round(local), shard.length]);
    return correct! / Math.max(1, n!);
  }
}

const isLeader = (group: ProcessGroup | undefined) => !group || group.rank === 0;

/** A run trains with the world size it was made with: the data shards and the batch per step depend on it. */
function checkWorldSize(config: TrainConfig, group: ProcessGroup | undefined, what: string): void {
  const have = group?.worldSize ?? 1;
  if (config.worldSize !== have) {
    throw new TrainingError(`${what} trains with ${config.worldSize} process${config.worldSize === 1 ? '' : 'es'} (worldSize), but this run has ${have}; ` +
      (config.worldSize === 1 ? 'resume it without --nproc or WORLD_SIZE' : `resume it with --nproc ${config.worldSize} (or WORLD_SIZE=${config.worldSize})`));
  }
}
