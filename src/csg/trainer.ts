// The CSG trainer (method.md sections 1-3): STD and CSG paths alternating per epoch, one optimizer
// for both paths or one per path, a gate with its hinge penalty and row-max projection, per-epoch
// metrics, atomic checkpoints, exact resume, clean Ctrl-C, and a NaN guard.
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { SGD, Adam, AdamW, MultiStepLR, type Optimizer } from '../torch/optim/index.js';
import { loadSafetensors } from '../torch/io/safetensors.js';
import { createModel } from '../models/registry.js';
import { inChildren, type CsgBackbone } from '../models/types.js';
import { BatchLoader, loadDataset, splitDataset, type ImageDataset } from '../data/index.js';
import { ClassSpecificGate } from './gate.js';
import { trainStep, NonFiniteLossError, type StepResult } from './step.js';
import { epochPath, schedulePlan, type Path } from './schedule.js';
import { validateConfig, type OptimizerConfig, type TrainConfig } from './config.js';
import { forEachBatch } from './run.js';
import { addPrefix, checkpointPath, loadSnapshot, saveSnapshot, withPrefix, type Snapshot } from './checkpoint.js';
import { Progress } from '../cli/progress.js';

export interface EpochMetrics {
  epoch: number;
  path: Path;
  train_loss: number;
  train_ce: number;
  train_reg: number;
  train_acc: number;
  val_acc: number;
  density: number | null;
  lr: Record<string, number>;
  seconds: number;
}

export interface TrainOptions {
  outDir: string;
  resume?: boolean;
  /** Stop (with a checkpoint) after this many epochs in this call, as if interrupted. */
  stopAfterEpochs?: number;
  progress?: 'auto' | 'plain' | 'none';
  /** Where human-readable lines go (default stderr). */
  log?: (line: string) => void;
}

export interface TrainResult {
  runDir: string;
  completed: boolean;
  interrupted: boolean;
  metrics: EpochMetrics[];
}

export class TrainingError extends Error {}

/** Atomic text write: temp file + rename, so an existing file is never left half-written. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

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
  private stopRequested = false;

  private constructor(readonly config: TrainConfig, readonly runDir: string, train: ImageDataset, val: ImageDataset, readonly log: (s: string) => void) {
    const c = config;
    this.valSet = val;
    this.model = createModel(c.model, { inChannels: train.channels, numClasses: train.numClasses, inputSize: train.height });
    if (c.pretrained) loadPretrained(this.model, c.pretrained, log);
    this.model.to({ memoryFormat: c.memoryFormat });
    this.gate = c.strategy === 'csg' ? new ClassSpecificGate(this.model.numFilters, train.numClasses, c.gateInit) : null;
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
      batchSize: c.batchSize, shuffle: true, seed: c.seed, cropPadding: c.cropPadding, hflip: c.hflip, limit: c.limit || undefined,
    });
  }

  /** Builds a trainer for a new run, or restores one from RUN_DIR/checkpoints/last.safetensors. */
  static async create(configIn: TrainConfig, opts: TrainOptions): Promise<Trainer> {
    const log = opts.log ?? ((s: string) => process.stderr.write(s + '\n'));
    const runDir = opts.outDir;
    const configFile = join(runDir, 'config.json');
    let config = configIn;
    if (opts.resume) {
      if (!existsSync(configFile)) throw new Error(`--resume: ${configFile} not found (is ${runDir} a csgnet run folder?)`);
      // Runs saved before a knob existed get its default (workers: 0 = how they ran).
      const saved = JSON.parse(readFileSync(configFile, 'utf8')).train as Partial<TrainConfig>;
      config = { ...saved, workers: saved.workers ?? 0 } as TrainConfig;
    } else if (existsSync(join(runDir, 'checkpoints', 'last.safetensors'))) {
      throw new Error(`${runDir} already holds a run; use --resume to continue it or choose another --out`);
    }
    validateConfig(config);
    if (config.threads) torch.setNumThreads(config.threads);
    torch.manualSeed(config.seed);
    let train = await loadDataset(config.dataset, { root: config.dataRoot, split: 'train', size: config.imageSize });
    let val: ImageDataset;
    if (config.valFraction > 0) ({ train, val } = splitDataset(train, config.valFraction, config.seed));
    else val = await loadDataset(config.dataset, { root: config.dataRoot, split: 'test', size: config.imageSize });
    mkdirSync(join(runDir, 'checkpoints'), { recursive: true });
    const trainer = new Trainer(config, runDir, train, val, log);
    if (opts.resume) trainer.restore(loadSnapshot(checkpointPath(runDir, 'last')));
    else {
      writeFileAtomic(configFile, JSON.stringify({
        train: config, dataset: { name: train.name, classes: train.classNames, channels: train.channels, height: train.height, width: train.width, trainSize: trainer.trainLoader.size, valSize: val.length },
        schedule: schedulePlan(config.epochs, config), libtorch: torch.libtorchVersion(), created: new Date().toISOString(),
      }, null, 2) + '\n');
      writeFileSync(join(runDir, 'metrics.jsonl'), '');
    }
    return trainer;
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
        epoch: this.epoch, nextBatch: this.nextBatch, stats: this.stats, bestValAcc: this.bestValAcc, optimizers: optState,
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
    for (const t of Object.values(snap.tensors)) t.dispose();
  }

  private saveCheckpoint(): void {
    const snap = this.snapshot();
    saveSnapshot(checkpointPath(this.runDir, 'last'), snap);
    // Model, gate and optimizer tensors are the live ones (not copies); only the RNG state is ours.
    snap.tensors['rng.torch'].dispose();
  }

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
    try {
      return trainStep({ model: this.model, gate: this.gate, optimizer: path === 'csg' ? this.csgOpt : this.stdOpt,
        gateOptimizer: this.gateOpt, lambda: this.config.lambda, rho: this.config.rho }, x, y, path);
    } catch (e) {
      if (!(e instanceof NonFiniteLossError)) throw e;
      throw new TrainingError(`loss is ${e.value} at epoch ${this.epoch}, batch ${this.nextBatch} (${path} path); ` +
        `stopped; the last good checkpoint is kept at ${checkpointPath(this.runDir, 'last')}. Try a lower learning rate.`);
    }
  }

  /** Runs the remaining epochs. Resolves when done, interrupted (SIGINT) or stopped by stopAfterEpochs. */
  async run(opts: Pick<TrainOptions, 'stopAfterEpochs' | 'progress'> = {}): Promise<TrainResult> {
    const c = this.config;
    const metrics: EpochMetrics[] = [];
    const onSigint = () => {
      if (this.stopRequested) process.exit(130);
      this.stopRequested = true;
      this.log('\ninterrupt: finishing this batch, saving a checkpoint, then exiting (Ctrl-C again to abort)');
    };
    process.on('SIGINT', onSigint);
    let epochsThisRun = 0;
    try {
      while (this.epoch < c.epochs) {
        const e = this.epoch;
        const path = epochPath(e, c);
        const progress = new Progress(opts.progress ?? 'auto', `epoch ${e + 1}/${c.epochs} ${path}`, this.trainLoader.batchesPerEpoch, this.log);
        progress.start(this.nextBatch);
        this.model.train();
        this.trainableFor(path);
        const t0 = performance.now();
        let sinceYield = 0;
        for await (const b of this.trainLoader.batches(e, { startBatch: this.nextBatch, workers: c.workers })) {
          const r = torch.tidy(() => {
            const x = torch.fromTypedArray(b.x, b.shape).contiguous(c.memoryFormat);
            const y = torch.fromTypedArray(b.y, [b.y.length], { dtype: 'int64' });
            return this.step(x, y, path);
          });
          this.trainLoader.recycle(b); // x was copied into the tensor
          const n = b.y.length;
          this.stats.lossSum += r.loss * n; this.stats.ceSum += r.ce * n; this.stats.regSum += r.reg * n;
          this.stats.correct += r.correct; this.stats.n += n;
          this.nextBatch++;
          progress.update(this.nextBatch, { loss: this.stats.lossSum / this.stats.n, acc: this.stats.correct / this.stats.n, imagesPerBatch: n });
          // Let signals and timers run (Ctrl-C) without slowing the loop.
          if (++sinceYield >= 4) { sinceYield = 0; await new Promise((res) => setImmediate(res)); }
          if (this.stopRequested) break;
        }
        this.stats.seconds += (performance.now() - t0) / 1000;
        progress.stop();
        if (this.stopRequested) {
          this.saveCheckpoint();
          this.log(`saved ${checkpointPath(this.runDir, 'last')} at epoch ${e}, batch ${this.nextBatch}; continue with --resume`);
          return { runDir: this.runDir, completed: false, interrupted: true, metrics };
        }
        // End of epoch: schedulers step on their own kind of epoch only (one shared optimizer steps every epoch).
        const lr: Record<string, number> = { std: this.stdOpt.paramGroups[0].lr };
        if (this.csgOpt !== this.stdOpt) lr.csg = this.csgOpt.paramGroups[0].lr;
        else if (c.strategy === 'csg') lr.csg = lr.std;
        if (this.gateOpt) lr.gate = this.gateOpt.paramGroups[0].lr;
        if (this.csgSched === this.stdSched) this.stdSched.step();
        else (path === 'csg' ? this.csgSched : this.stdSched).step();
        const val = this.evaluate(this.valSet, c.valLimit);
        const m: EpochMetrics = {
          epoch: e, path, train_loss: this.stats.lossSum / this.stats.n, train_ce: this.stats.ceSum / this.stats.n,
          train_reg: this.stats.regSum / this.stats.n, train_acc: this.stats.correct / this.stats.n, val_acc: val,
          density: this.gate ? this.gate.density() : null, lr, seconds: this.stats.seconds,
        };
        metrics.push(m);
        appendFileSync(join(this.runDir, 'metrics.jsonl'), JSON.stringify(m) + '\n');
        this.log(`epoch ${e + 1}/${c.epochs} ${path}: loss ${m.train_loss.toFixed(4)} train_acc ${m.train_acc.toFixed(4)} val_acc ${m.val_acc.toFixed(4)}` +
          (m.density !== null ? ` density ${m.density.toFixed(4)}` : '') + ` (${m.seconds.toFixed(1)} s)`);
        this.epoch = e + 1; this.nextBatch = 0; this.stats = emptyStats();
        const improved = val > this.bestValAcc;
        if (improved) this.bestValAcc = val;
        this.saveCheckpoint();
        if (improved) {
          const best = checkpointPath(this.runDir, 'best');
          copyFileSync(checkpointPath(this.runDir, 'last'), best + '.tmp');
          renameSync(best + '.tmp', best);
        }
        epochsThisRun++;
        if (opts.stopAfterEpochs && epochsThisRun >= opts.stopAfterEpochs && this.epoch < c.epochs) {
          return { runDir: this.runDir, completed: false, interrupted: false, metrics };
        }
      }
      return { runDir: this.runDir, completed: true, interrupted: false, metrics };
    } finally {
      process.off('SIGINT', onSigint);
      await this.trainLoader.close();
    }
  }
}

/** Drops metrics lines past the checkpoint (a crash between the two writes), keeping the file consistent. */
export function readMetrics(runDir: string): EpochMetrics[] {
  const file = join(runDir, 'metrics.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}
