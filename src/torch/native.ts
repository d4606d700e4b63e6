// Loads the compiled libtorch addon (build/Release/csgnet_native.node) and types its surface.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../util/paths.js';
import { attachThreadSetter } from './threads.js';

/** Opaque handle to a native at::Tensor. */
export type Handle = { readonly __native: unique symbol };

export interface NativeAddon {
  NativeTensor: new () => Handle;
  opHandle(name: string, overload: string): number;
  opSchema(id: number): string;
  op(id: number, args: unknown[]): any;
  shape(h: Handle): number[];
  strides(h: Handle): number[];
  dtype(h: Handle): string;
  device(h: Handle): string;
  requiresGrad(h: Handle): boolean;
  isLeaf(h: Handle): boolean;
  getGrad(h: Handle): Handle | null;
  setGrad(h: Handle, g: Handle | null): void;
  dispose(h: Handle): void;
  isDisposed(h: Handle): boolean;
  liveTensors(): number;
  /** The caching CPU allocator (native/src/allocator.cc): free its cached blocks, their bytes, its cap. */
  emptyCache(): void;
  cachedBytes(): number;
  setCacheLimit(bytes: number): void;
  fromBuffer(data: ArrayBufferView | ArrayBuffer, shape: number[], dtype: string): Handle;
  toBuffer(h: Handle): ArrayBuffer;
  backward(tensors: Handle[], grads: (Handle | null)[] | null, retainGraph?: boolean, createGraph?: boolean): void;
  grad(outputs: Handle[], inputs: Handle[], gradOutputs: (Handle | null)[] | null, retainGraph?: boolean,
       createGraph?: boolean, allowUnused?: boolean): (Handle | null)[];
  setGradEnabled(on: boolean): boolean;
  isGradEnabled(): boolean;
  manualSeed(seed: number): void;
  getRngState(): Handle;
  setRngState(state: Handle): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  getNumInteropThreads(): number;
  /** at::show_config(): the build configuration (BLAS_INFO, oneDNN, OpenMP, TORCH_VERSION ...). */
  showConfig(): string;
  /** at::get_parallel_info(): parallel backend and thread settings. */
  parallelInfo(): string;
  cudaAvailable(): boolean;
  version(): string;
  // c10d process groups (native/src/dist.cc); collectives settle off the main thread.
  distBackends(): string[];
  distNewGloo(opts: { rank: number; worldSize: number; masterAddr: string; masterPort: number; timeoutMs: number;
                      storePath: string }): Promise<GroupHandle>;
  distAllReduce(g: GroupHandle, t: Handle): Promise<void>;
  distBroadcast(g: GroupHandle, t: Handle, src: number): Promise<void>;
  distAllGather(g: GroupHandle, t: Handle): Promise<Handle[]>;
  distBarrier(g: GroupHandle): Promise<void>;
  distDestroy(g: GroupHandle): Promise<void>;
  // Data parallel (c10d::Reducer, broadcast_coalesced, a differentiable allreduce); these block.
  distReducerNew(g: GroupHandle, params: Handle[], bucketBytes: number, firstBucketBytes: number): ReducerHandle;
  distReducerPrepare(r: ReducerHandle): void;
  distReducerDispose(r: ReducerHandle): void;
  distBroadcastCoalesced(g: GroupHandle, ts: Handle[], src: number, bufferBytes: number): void;
  distAllReduceAutograd(g: GroupHandle, t: Handle): Handle;
}

/** Opaque handle to a native c10d::Reducer. */
export type ReducerHandle = { readonly __reducer: unique symbol };

/** Opaque handle to a native c10d process group. */
export type GroupHandle = { readonly __group: unique symbol };

function load(): NativeAddon {
  const path = join(packageRoot(), 'build', 'Release', 'csgnet_native.node');
  if (!existsSync(path)) {
    throw new Error(`csgnet: native addon not built (${path} is missing). Run \`npm ci\` (needs libtorch: ` +
      '`apt-get install libtorch-dev`, or LIBTORCH=/path/to/libtorch).');
  }
  return createRequire(import.meta.url)(path) as NativeAddon;
}

export const native: NativeAddon = load();

// The intra-op thread count: the one chosen with useNumThreads (e.g. the CLI's --threads) before this
// load, else every core unless OMP_NUM_THREADS is set (src/torch/threads.ts: defaultNumThreads).
attachThreadSetter((n) => native.setNumThreads(n));
