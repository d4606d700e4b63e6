// The trainer's data parallelism, with DistributedDataParallel's semantics over a c10d process group:
// rank 0's parameters and buffers broadcast at the start; each rank trains on its own shard of every
// epoch (the loader's DistributedSampler rule); gradients, the gate's included, averaged by
// c10d::Reducer while backward runs (one reducer per path, since the paths train different tensors);
// BatchNorm statistics per process with rank 0's buffers broadcast before every forward, or
// synchronized over the group (--sync-bn); loss/accuracy sums, the stop request and evaluation counts
// reduced so that every rank sees the same numbers and stops at the same batch.
// The trainer holds a DataParallel either way: in a single process (dataParallel() without a group)
// every hook does nothing, so the epoch loop reads the same for one process and for many.
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import type { ProcessGroup } from '../torch/distributed.js';
import { GradientReducer, channelsLastParameters, convertSyncBatchNorm, syncBuffers, syncParameters } from '../torch/nn/parallel.js';
import type { CsgBackbone } from '../models/types.js';
import { subset, type ImageDataset } from '../data/index.js';
import type { ClassSpecificGate } from './gate.js';
import type { Path } from './schedule.js';
import { TrainingError } from './trainer_options.js';

export interface DataParallelOptions {
  /** Synchronized BatchNorm statistics (nn.SyncBatchNorm) instead of per-process ones. */
  syncBn: boolean;
  /** The activations' layout: with channels_last, the parameters take its strides (channelsLastParameters). */
  memoryFormat?: 'contiguous_format' | 'channels_last';
}

/** Where a trainer stands, which every rank must share when it joins the group. */
export interface Position { epoch: number; nextBatch: number; runDir: string }

/** The trainer's hooks around data parallelism; SingleProcess's do nothing. */
export interface DataParallel {
  /** Whether this process writes the run folder (rank 0 alone does). */
  readonly isLeader: boolean;
  /** This rank's loader shard (undefined: the whole epoch). */
  readonly shard: { rank: number; worldSize: number } | undefined;
  /** After any checkpoint is restored: rank 0's weights everywhere, gradient reducers, the same position on every rank. */
  join(model: CsgBackbone, gate: ClassSpecificGate | null, trained: () => Partial<Record<Path, Tensor[]>>, at: Position): Promise<void>;
  /** Before a training step's forward. */
  beforeStep(path: Path): void;
  /** A batch's sums (loss, ce, reg, correct, images) over the group; `stopRequested` is sampled now when the group needs it. */
  reduceBatch(sums: number[], stopRequested: () => boolean): Promise<number[]>;
  /** After the batch `count` (from 1) of this call's epoch: whether the group stops. */
  stopAfterBatch(count: number, stopRequested: () => boolean): Promise<boolean>;
  /** At an epoch's end: whether any rank asks to stop. */
  anyStop(local: boolean): Promise<boolean>;
  /** Validation accuracy of the model, given how to count one dataset's accuracy. */
  accuracy(val: ImageDataset, limit: number, evaluate: (ds: ImageDataset, limit: number) => number): Promise<number>;
  dispose(): void;
}

/** The trainer's data parallelism: over `group` when there is one, else a single process. */
export function dataParallel(group: ProcessGroup | undefined, opts: DataParallelOptions): DataParallel {
  return group ? new DistributedDataParallel(group, opts) : new SingleProcess();
}

/** One process: no group, so nothing to synchronize; it lets signal handlers and timers run every 4 batches. */
export class SingleProcess implements DataParallel {
  readonly isLeader = true;
  readonly shard = undefined;
  async join(): Promise<void> {}
  beforeStep(): void {}
  async reduceBatch(sums: number[]): Promise<number[]> { return sums; }
  async stopAfterBatch(count: number, stopRequested: () => boolean): Promise<boolean> {
    if (count % 4 === 0) await new Promise((res) => setImmediate(res));
    return stopRequested();
  }
  async anyStop(local: boolean): Promise<boolean> { return local; }
  async accuracy(val: ImageDataset, limit: number, evaluate: (ds: ImageDataset, limit: number) => number): Promise<number> { return evaluate(val, limit); }
  dispose(): void {}
}

export class DistributedDataParallel implements DataParallel {
  private readonly reducers = new Map<Path, GradientReducer>();
  private model: CsgBackbone | null = null;
  private valShard: ImageDataset | null = null;
  /** The stop the group agreed on with the last batch's sums. */
  private agreedStop = false;

  constructor(readonly group: ProcessGroup, readonly opts: DataParallelOptions) {}

  get rank(): number { return this.group.rank; }
  get worldSize(): number { return this.group.worldSize; }
  /** Whether this rank writes the run folder (rank 0 alone does). */
  get isLeader(): boolean { return this.group.rank === 0; }

  /** This rank's loader shard (the DistributedSampler rule). */
  get shard(): { rank: number; worldSize: number } { return { rank: this.rank, worldSize: this.worldSize }; }

  /**
   * Makes every rank's model and gate rank 0's, and builds one gradient reducer per path over the
   * tensors that path trains (same order on every rank). Call once, after any checkpoint is restored.
   */
  attach(model: CsgBackbone, gate: ClassSpecificGate | null, trained: Partial<Record<Path, Tensor[]>>): void {
    this.model = model;
    if (this.opts.syncBn) convertSyncBatchNorm(model, this.group);
    syncParameters(this.group, [...model.parameters(), ...model.buffers(), ...(gate ? [gate.weight] : [])]);
    if (this.opts.memoryFormat === 'channels_last') channelsLastParameters(model.parameters());
    for (const [path, params] of Object.entries(trained) as [Path, Tensor[]][]) {
      // c10d::Reducer hooks each parameter's gradient accumulator, which needs requires_grad now;
      // the trainer switches the other path's parameters off again at every epoch start.
      for (const p of params) p.requiresGrad_(true);
      this.reducers.set(path, new GradientReducer(this.group, params));
    }
  }

  /** Every rank must stand at the same epoch and batch (a resumed run read from the same folder everywhere). */
  async join(model: CsgBackbone, gate: ClassSpecificGate | null, trained: () => Partial<Record<Path, Tensor[]>>, at: Position): Promise<void> {
    this.attach(model, gate, trained());
    const [e, b, n] = await this.sum([at.epoch, at.nextBatch, 1]);
    if (e !== at.epoch * n! || b !== at.nextBatch * n!) {
      throw new TrainingError(`rank ${this.rank} of ${this.worldSize} stands at epoch ${at.epoch}, batch ${at.nextBatch}, but the ranks disagree ` +
        `(their sums: epoch ${e}, batch ${b}); every rank must resume from the same run folder (${at.runDir}), on a shared file system`);
    }
  }

  /** Before a training step's forward: rank 0's buffers (unless synchronized), then arm the path's reducer. */
  beforeStep(path: Path): void {
    if (!this.opts.syncBn && this.model) syncBuffers(this.group, this.model);
    const r = this.reducers.get(path);
    if (!r) throw new Error(`data parallel: no gradient reducer for the ${path} path`);
    r.prepare();
  }

  /** Element-wise sums over the ranks of a few numbers (float64, exact for counts). */
  async sum(values: number[]): Promise<number[]> {
    const t = torch.tensor(values, { dtype: 'float64' });
    try {
      await this.group.allReduce(t);
      return Array.from(t.data() as Float64Array);
    } finally {
      t.dispose();
    }
  }

  /** The group's sums and its stop request, in one allreduce (every rank logs the same numbers). */
  async reduceBatch(sums: number[], stopRequested: () => boolean): Promise<number[]> {
    const all = await this.sum([...sums, stopRequested() ? 1 : 0]);
    this.agreedStop = all[sums.length]! > 0;
    return all.slice(0, sums.length);
  }

  /** The stop agreed with the batch's sums: every rank stops at the same batch. */
  async stopAfterBatch(): Promise<boolean> { return this.agreedStop; }

  /** Whether any rank asks to stop (every rank gets the same answer). */
  async anyStop(local: boolean): Promise<boolean> {
    return (await this.sum([local ? 1 : 0]))[0]! > 0;
  }

  /** This rank's contiguous part of the first `limit` samples of an evaluation set (0 = all). */
  evaluationShard(ds: ImageDataset, limit: number): ImageDataset {
    const n = limit ? Math.min(limit, ds.length) : ds.length;
    const lo = Math.floor((n * this.rank) / this.worldSize), hi = Math.floor((n * (this.rank + 1)) / this.worldSize);
    return subset(ds, Int32Array.from({ length: hi - lo }, (_, k) => lo + k));
  }

  /** Each rank counts its shard of rank 0's model (the one rank 0 saves), and the counts are summed. */
  async accuracy(val: ImageDataset, limit: number, evaluate: (ds: ImageDataset, limit: number) => number): Promise<number> {
    if (this.model) syncBuffers(this.group, this.model);
    const shard = this.valShard ??= this.evaluationShard(val, limit);
    const local = shard.length ? evaluate(shard, 0) * shard.length : 0;
    const [correct, n] = await this.sum([Math.round(local), shard.length]);
    return correct! / Math.max(1, n!);
  }

  dispose(): void {
    for (const r of this.reducers.values()) r.dispose();
    this.reducers.clear();
    if (this.opts.syncBn && this.model) convertSyncBatchNorm(this.model, null);
  }
}
