// What a batch loader makes and is made from. loader.ts (the loader), workers.ts (the worker pool) and
// loader_worker.ts (a worker thread) all depend on these types, so none of them imports the others
// in a circle.
import type { ImageDataset } from './dataset.js';

export interface Batch {
  /** Normalized pixels, B*C*H*W, CHW per sample. */
  x: Float32Array;
  shape: [number, number, number, number];
  y: Int32Array;
  /** Dataset indices of the samples. */
  indices: Int32Array;
}

export type AugmentMode = 'per-sample' | 'per-batch';
export const AUGMENT_MODES: readonly AugmentMode[] = ['per-sample', 'per-batch'];

export interface LoaderOptions {
  batchSize: number;
  /** Shuffle every epoch (default true). Without shuffling samples come in index order. */
  shuffle?: boolean;
  /** Seed for shuffling and augmentation (default 0). */
  seed?: number;
  /** Drop the last incomplete batch (default false). */
  dropLast?: boolean;
  /** Random-crop padding p in pixels (0 = no random crop; default 0). */
  cropPadding?: number;
  /** Random horizontal flip with probability 0.5 (default false). */
  hflip?: boolean;
  /** 'per-sample' (default): each image gets its own crop offset and flip. 'per-batch': one offset
   *  and one flip decision for the whole batch, padding with normalized 0, as the PyTorch reference
   *  script (shared/reference/csg_reference.py) does. */
  augment?: AugmentMode;
  /** Normalize with mean/std (default true); false gives v/255. */
  normalize?: boolean;
  /** Override the dataset's per-channel mean/std (in [0,1] units). */
  mean?: number[];
  std?: number[];
  /** Use only the first `limit` samples of the dataset. */
  limit?: number;
  /** This process's share of every epoch in data-parallel training (DistributedSampler's rule):
   *  the epoch's order padded by repeating its start to a multiple of worldSize, then every
   *  worldSize-th sample from position rank. Default: the whole epoch (rank 0 of 1). */
  shard?: { rank: number; worldSize: number };
}

/** LoaderOptions with every default filled in (worker threads rebuild the loader from them). */
export type ResolvedLoaderOptions = Required<Omit<LoaderOptions, 'mean' | 'std' | 'limit'>> & { mean: number[]; std: number[]; limit: number };

/** What the worker pool needs to know of a loader (BatchLoader is one). */
export interface BatchSource {
  readonly dataset: ImageDataset;
  readonly options: ResolvedLoaderOptions;
  readonly batchesPerEpoch: number;
}
