// torch.nn.parallel for csgnet: what DistributedDataParallel does around a model, over libtorch's own
// c10d machinery. GradientReducer is c10d::Reducer (DDP's engine): gradients are packed into ~25 MiB
// buckets and each bucket's allreduce starts from an autograd hook as soon as its gradients are
// ready, while backward goes on; backward returns once every bucket is averaged into .grad.
// syncParameters/syncBuffers are DDP's start-of-training broadcast and per-forward buffer sync.
import { native, type ReducerHandle } from '../native.js';
import type { Tensor } from '../tensor.js';
import { noGrad } from '../autograd.js';
import type { ProcessGroup } from '../distributed.js';
import type { Module } from './module.js';
import { BatchNorm2d } from './layers.js';

export interface GradientReducerOptions {
  /** Bucket size cap in MiB (DDP's bucket_cap_mb, default 25). */
  bucketCapMb?: number;
  /** The first bucket's cap in MiB, small so that communication starts early (DDP's 1 MiB). */
  firstBucketMb?: number;
}

const MIB = 1024 * 1024;

export class GradientReducer {
  private h: ReducerHandle | null;

  /**
   * `params` must be leaf tensors that require grad, and each must receive a gradient in every
   * backward after prepare() (DDP with find_unused_parameters=False). The same parameters in the
   * same order on every rank.
   */
  constructor(readonly group: ProcessGroup, readonly params: Tensor[], opts: GradientReducerOptions = {}) {
    const cap = opts.bucketCapMb ?? 25, first = opts.firstBucketMb ?? 1;
    if (!(cap > 0) || !(first > 0)) throw new RangeError(`GradientReducer: bucket sizes must be > 0 MiB, got ${cap} and ${first}`);
    const hs = params.map((p) => group.tensor('GradientReducer', p).h);
    this.h = group.sync('GradientReducer', (g) => native.distReducerNew(g, hs, Math.round(cap * MIB), Math.round(first * MIB)));
  }

  /** Arms the hooks for the next backward (call before each forward whose loss is backpropagated). */
  prepare(): void {
    const h = this.h;
    if (!h) throw new Error('GradientReducer: disposed');
    this.group.sync('GradientReducer.prepare', () => native.distReducerPrepare(h));
  }

  dispose(): void {
    const h = this.h;
    this.h = null;
    if (h) native.distReducerDispose(h);
  }
}

/**
 * Gives the 4-D parameters the exact strides their gradients get when the model runs in
 * channels_last, before a GradientReducer is built over them. A [O, I, 1, 1] weight is both
 * contiguous and channels_last, with strides that differ only in its size-1 dimensions: autograd keeps
 * the channels_last gradient as it comes (the layout contract ignores size-1 dimensions), while
 * c10d::Reducer builds its bucket views with the parameter's strides and compares them exactly ("Grad
 * strides do not match bucket view strides"). PyTorch's model.to(memory_format=torch.channels_last)
 * gives such weights the channels_last strides; so does this. Returns how many were changed.
 */
export function channelsLastParameters(params: Tensor[]): number {
  let n = 0;
  for (const p of params) {
    if (p.ndim !== 4) continue;
    const [, c, h, w] = p.shape as [number, number, number, number];
    const want = [h * w * c, 1, w * c, c];
    if (p.stride().every((s, i) => s === want[i])) continue;
    noGrad(() => {
      const q = p.clone('channels_last');  // a copy: contiguous() would keep the ambiguous strides
      p.set_(q);
      q.dispose();
    });
    n++;
  }
  return n;
}

/** Rank src's values of every parameter and buffer, on every rank (DDP's constructor). */
export function syncParameters(group: ProcessGroup, tensors: Tensor[], src = 0): void {
  group.broadcastCoalesced(tensors, src);
}

/** The module's buffers (BatchNorm running statistics) from rank src (DDP's broadcast_buffers). */
export function syncBuffers(group: ProcessGroup, module: Module, src = 0): void {
  const bufs = module.buffers();
  if (bufs.length) group.broadcastCoalesced(bufs, src);
}

/**
 * nn.SyncBatchNorm.convert_sync_batchnorm: every BatchNorm2d of the module computes its training
 * batch statistics over the whole group (the modules keep their class, names and state dict).
 * Returns the number of layers converted.
 */
export function convertSyncBatchNorm(module: Module, group: ProcessGroup | null): number {
  let n = 0;
  for (const m of module.modules()) if (m instanceof BatchNorm2d) { m.syncGroup = group; n++; }
  return n;
}
