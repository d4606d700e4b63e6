// The CSG trainer (method.md sections 1-3): STD and CSG paths alternating per epoch, one optimizer
// for both paths or one per path, a gate with its hinge penalty and row-max projection, per-epoch
// metrics, crash-safe checkpoints (RunDir), exact resume, stop on an AbortSignal, and a NaN guard.
// It reports through the events its caller passes in; it never touches the process (signals, exit).
// This file holds the trainer and its epoch loop; setting a run up is trainer_setup.ts, continuing
// one trainer_resume.ts. Given a process group (TrainOptions.group) it trains data-parallel through
// data_parallel.ts, whose hooks do nothing in a single process: every rank runs the same loop on its
// shard, and rank 0 alone writes the run folder.
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import type { MultiStepLR, Optimizer } from '../torch/optim/index.js';
import type { CsgBackbone } from '../models/types.js';
import { BatchLoader, type ImageDataset } from '../data/index.js';
import type { ProcessGroup } from '../torch/distributed.js';
import { faultPoint } from '../util/faults.js';
import type { ClassSpecificGate } from './gate.js';
import { createModelAndGate } from './model.js';
import { trainStep, NonFiniteLossError, type StepResult } from './step.js';
import { epochPath, type Path } from './schedule.js';
import { CHECKPOINT_SECONDS, validateConfig, type TrainConfig } from './config.js';
import { forEachBatch } from './run.js';
import { saveSnapshot, type Snapshot } from './checkpoint.js';
import { RunDir, readMetrics, type EpochMetrics } from './run_dir.js';
import { dataParallel, type DataParallel } from './data_parallel.js';
import { TrainingError, type ResumeOptions, type RunOptions, type StopReason, type TrainEvents, type TrainOptions, type TrainResult } from './trainer_options.js';
import { checkWorldSize, isLeaderOf, loadPretrained, loadTrainingData, newRunRecord, pathOptimizers } from './trainer_setup.js';
import { emptyStats, repairRunDir, restoreSnapshot, resumeConfig, snapshotOf, type EpochStats, type TrainedState } from './trainer_resume.js';

export { readMetrics, type EpochMetrics };
export * from './trainer_options.js';
export { trainableParameters, loadPretrained } from './trainer_setup.js';

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

  /** The data-parallel side of training (its single-process form does nothing). */
  readonly dp: DataParallel;
  /** Whether this process writes the run folder (always, unless it is a rank other than 0). */
  get isLeader(): boolean { return this.dp.isLeader; }

  private constructor(readonly config: TrainConfig, readonly dir: RunDir, train: ImageDataset, val: ImageDataset, readonly log: (s: string) => void,
    group: ProcessGroup | undefined) {
    const c = config;
    this.dp = dataParallel(group, { syncBn: c.syncBn, memoryFormat: c.memoryFormat });
    this.runDir = dir.dir;
    this.valSet = val;
    ({ model: this.model, gate: this.gate } = createModelAndGate(c, train));
    if (c.pretrained) loadPretrained(this.model, c.pretrained, log);
    ({ stdParams: this.stdParams, csgParams: this.csgParams, stdOpt: this.stdOpt, csgOpt: this.csgOpt, gateOpt: this.gateOpt,
      stdSched: this.stdSched, csgSched: this.csgSched } = pathOptimizers(c, this.model, this.gate));
    this.trainLoader = new BatchLoader(train, {
      batchSize: c.batchSize, shuffle: true, seed: c.seed, cropPadding: c.cropPadding, hflip: c.hflip, augment: c.augment, limit: c.limit || undefined,
      shard: this.dp.shard,
    });
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
    if (isLeaderOf(opts.group)) dir.createNew();
    return Trainer.build(config, dir, opts, null, false);
  }

  /**
   * Continues the run in opts.outDir from its last checkpoint, with its own config.json; only the
   * RESUMABLE_KEYS may change. A run killed before its first checkpoint starts again from the beginning.
   */
  static async resume(opts: ResumeOptions): Promise<Trainer> {
    const dir = new RunDir(opts.outDir);
    if (isLeaderOf(opts.group)) dir.openExisting();
    else dir.checkReadable();
    try {
      const { config, snap } = resumeConfig(dir, opts);
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
      const { train, val } = await loadTrainingData(config);
      const trainer = new Trainer(config, dir, train, val, log, opts.group);
      trainer.resumed = resumed;
      if (snap) trainer.restore(snap);
      await trainer.dp.join(trainer.model, trainer.gate, () => trainer.trainedPerPath(),
        { epoch: trainer.epoch, nextBatch: trainer.nextBatch, runDir: trainer.runDir });
      if (!dir.isRun() && trainer.isLeader) dir.writeConfig(newRunRecord(config, train, val, trainer.trainLoader.totalSize));
      if (trainer.isLeader) repairRunDir(dir, trainer.history, trainer.bestEpoch, log);
      return trainer;
    } catch (e) {
      dir.release();
      throw e;
    }
  }

  /** Releases the run folder's lock (run() does this when it ends) and the data-parallel state. */
  close(): void {
    this.dp.dispose();
    this.dir.release();
  }

  /** What a checkpoint holds besides the progress; csg optimizer and scheduler only when not the shared ones. */
  private trainedState(): TrainedState {
    const all: [string, Optimizer | null][] = [['std', this.stdOpt], ['csg', this.csgOpt === this.stdOpt ? null : this.csgOpt], ['gate', this.gateOpt]];
    return { model: this.model, gate: this.gate, optimizers: all.filter((e): e is [string, Optimizer] => e[1] !== null),
      stdSched: this.stdSched, csgSched: this.csgSched === this.stdSched ? null : this.csgSched };
  }

  /** Everything needed to continue exactly: weights, gate, optimizer/scheduler state, RNG, progress. */
  snapshot(): Snapshot {
    return snapshotOf(this.trainedState(), this);
  }

  restore(snap: Snapshot): void {
    const p = restoreSnapshot(this.trainedState(), snap, () => this.dir.readMetrics());
    this.epoch = p.epoch; this.nextBatch = p.nextBatch; this.stats = p.stats; this.bestValAcc = p.bestValAcc;
    this.bestEpoch = p.bestEpoch; this.history = p.history;
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
    this.dp.beforeStep(path);
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
    if (this.isLeader) this.dir.lock();
    this.lastSave = performance.now();
    let epochsThisRun = 0;
    let stopReported = false;
    const stopped = (reason: StopReason): TrainResult => {
      stopReported = true;
      const r = opts.signal?.reason;
      const detail = reason !== 'interrupted' || r === undefined ? undefined : typeof r === 'string' ? r : r instanceof Error ? r.message : String(r);
      ev.stop?.({ reason, epoch: this.epoch, nextBatch: this.nextBatch, ...(detail !== undefined ? { detail } : {}) });
      return { runDir: this.runDir, completed: reason === 'finished', interrupted: reason === 'interrupted', metrics };
    };
    try {
      ev.runStart?.({ runDir: this.runDir, config: c, epochs: c.epochs, startEpoch: this.epoch, startBatch: this.nextBatch, resumed: this.resumed,
        batchesPerEpoch: this.trainLoader.batchesPerEpoch });
      while (this.epoch < c.epochs) {
        const e = this.epoch;
        const path = epochPath(e, c);
        if (await this.trainEpoch(path, ev, stopRequested) && this.nextBatch < this.trainLoader.batchesPerEpoch) {
          this.saveCheckpoint(ev);
          this.log(`saved ${this.dir.checkpoint('last')} at epoch ${e}, batch ${this.nextBatch}; continue with --resume`);
          return stopped('interrupted');
        }
        const m = await this.endEpoch(path, ev);
        metrics.push(m);
        ev.epochEnd?.(m);
        this.log(`epoch ${e + 1}/${c.epochs} ${path}: loss ${m.train_loss.toFixed(4)} train_acc ${m.train_acc.toFixed(4)} val_acc ${m.val_acc.toFixed(4)}` +
          (m.density !== null ? ` density ${m.density.toFixed(4)}` : '') + ` (${m.seconds.toFixed(1)} s)`);
        epochsThisRun++;
        if (this.epoch >= c.epochs) break;
        if (await this.dp.anyStop(stopRequested())) {
          this.log(`saved ${this.dir.checkpoint('last')} at the end of epoch ${e}; continue with --resume`);
          return stopped('interrupted');
        }
        if (opts.stopAfterEpochs && epochsThisRun >= opts.stopAfterEpochs) return stopped('stop-after');
      }
      return stopped('finished');
    } catch (e) {
      // Reported before the lock is released, so that a reader never sees an unlocked run without its end.
      if (!stopReported) ev.stop?.({ reason: 'error', epoch: this.epoch, nextBatch: this.nextBatch, detail: (e as Error)?.message ?? String(e) });
      throw e;
    } finally {
      await this.trainLoader.close();
      this.dir.release();
    }
  }

  /** Trains the current epoch from nextBatch; true when the group agreed to stop after a batch. */
  private async trainEpoch(path: Path, ev: TrainEvents, stopRequested: () => boolean): Promise<boolean> {
    const c = this.config, e = this.epoch;
    ev.epochStart?.({ epoch: e, epochs: c.epochs, path, batches: this.trainLoader.batchesPerEpoch, startBatch: this.nextBatch });
    this.model.train();
    this.trainableFor(path);
    let t0 = performance.now();
    let count = 0, stop = false;
    for await (const b of this.trainLoader.batches(e, { startBatch: this.nextBatch, workers: c.workers })) {
      const r = torch.tidy(() => {
        const x = torch.fromTypedArray(b.x, b.shape).contiguous(c.memoryFormat);
        const y = torch.fromTypedArray(b.y, [b.y.length], { dtype: 'int64' });
        return this.step(x, y, path);
      });
      const size = b.y.length;
      this.trainLoader.recycle(b); // x was copied into the tensor
      // Data parallel: the group's sums, so that every rank logs the same numbers.
      const [loss, ce, reg, correct, n] = await this.dp.reduceBatch([r.loss * size, r.ce * size, r.reg * size, r.correct, size], stopRequested);
      this.stats.lossSum += loss!; this.stats.ceSum += ce!; this.stats.regSum += reg!;
      this.stats.correct += correct!; this.stats.n += n!;
      this.nextBatch++;
      faultPoint('batch');
      ev.batch?.({ batch: this.nextBatch, loss: this.stats.lossSum / this.stats.n, acc: this.stats.correct / this.stats.n, images: n! });
      if (this.midEpochCheckpointDue()) {
        const now = performance.now();
        this.stats.seconds += (now - t0) / 1000;
        t0 = now;
        this.saveCheckpoint(ev);
      }
      if (await this.dp.stopAfterBatch(++count, stopRequested)) { stop = true; break; }
    }
    this.stats.seconds += (performance.now() - t0) / 1000;
    return stop;
  }

  /** End of epoch: schedulers, validation, metrics, the checkpoint (and best copy) and the metrics line. */
  private async endEpoch(path: Path, ev: TrainEvents): Promise<EpochMetrics> {
    const c = this.config, e = this.epoch;
    // Schedulers step on their own kind of epoch only (one shared optimizer steps every epoch).
    const lr: Record<string, number> = { std: this.stdOpt.paramGroups[0].lr };
    if (this.csgOpt !== this.stdOpt) lr.csg = this.csgOpt.paramGroups[0].lr;
    else if (c.strategy === 'csg') lr.csg = lr.std;
    if (this.gateOpt) lr.gate = this.gateOpt.paramGroups[0].lr;
    if (this.csgSched === this.stdSched) this.stdSched.step();
    else (path === 'csg' ? this.csgSched : this.stdSched).step();
    const val = await this.dp.accuracy(this.valSet, c.valLimit, (ds, limit) => this.evaluate(ds, limit));
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
    return m;
  }
}
