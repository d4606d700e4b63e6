// The trainer's data parallelism, with DistributedDataParallel's semantics over a c10d process group:
// rank 0's parameters and buffers broadcast at the start; each rank trains on its own shard of every
// epoch (the loader's DistributedSampler rule); gradients, the gate's included, averaged by
// c10d::Reducer while backward runs (one reducer per path, since the paths train different tensors);
// BatchNorm statistics per process with rank 0's buffers broadcast before every forward, or
// synchronised over the group (--sync-bn); loss/accuracy sums, the stop request and evaluation counts
// reduced so that every rank sees the same numbers and stops at the same batch.
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import type { ProcessGroup } from '../torch/distributed.js';
import { GradientReducer, channelsLastParameters, convertSyncBatchNorm, syncBuffers, syncParameters } from '../torch/nn/parallel.js';
import type { CsgBackbone } from '../models/types.js';
import { subset, type ImageDataset } from '../data/index.js';
import type { ClassSpecificGate } from './gate.js';
import type { Path } from './schedule.js';

export interface DataParallelOptions {
  /** Synchronised BatchNorm statistics (nn.SyncBatchNorm) instead of per-process ones. */
  syncBn: boolean;
  /** The activations' layout: with channels_last, the parameters take its strides (channelsLastParameters). */
  memoryFormat?: 'contiguous_format' | 'channels_last';
}

export class DataParallel {
  private readonly reducers = new Map<Path, GradientReducer>();
  private model: CsgBackbone | null = null;

  constructor(readonly group: ProcessGroup, readonly opts: DataParallelOptions) {}

  get rank(): number { return this.group.rank; }
  get worldSize(): number { return this.group.worldSize; }
  /** Whether this rank writes the run folder (rank 0 alone does). */
  get isLeader(): boolean { return this.group.rank === 0; }

  /** This rank's loader shard. */
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

  /** Before a training step's forward: rank 0's buffers (unless synchronised), then arm the path's reducer. */
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

  /** Before evaluating: every rank evaluates rank 0's model (the one rank 0 saves). */
  beforeEvaluation(): void {
    if (this.model) syncBuffers(this.group, this.model);
  }

  dispose(): void {
    for (const r of this.reducers.values()) r.dispose();
    this.reducers.clear();
    if (this.opts.syncBn && this.model) convertSyncBatchNorm(this.model, null);
  }
}
