// Mini-batch loader: seeded per-epoch shuffling, on-the-fly augmentation and normalization.
//
// Augmentation follows torchvision's order RandomCrop(size, padding=p) ->
// RandomHorizontalFlip(0.5) -> ToTensor -> Normalize(mean, std): the raw image is padded
// with pixel value 0 (so a padded pixel becomes (0 - mean)/std after normalization, not 0),
// an HxW window at offset (dy, dx) in [0, 2p]^2 is cropped from the padded image, then
// mirrored left-right with probability 0.5, then each pixel v is mapped to
// (v/255 - mean[c]) / std[c] (or v/255 with normalize: false).
//
// With augment 'per-batch' (the PyTorch reference script's scheme: pad, crop the whole batch at one
// offset, flip all or none) the batch shares one offset and one flip decision, and the padding is
// normalized 0 (the reference pads the already normalized tensor), not raw 0.
//
// Determinism: the epoch's order is a permutation drawn from Rng(mixSeed(seed, epoch)), and
// a sample's crop offsets and flip come from mixSeed(seed, epoch, datasetIndex) (per-batch: from
// (seed, epoch, batch index)), so batch b
// of epoch e is the same whether produced in a full pass, after resuming at startBatch = b,
// or by worker threads (workers.ts).
import { imageSize, type ImageDataset } from './dataset.js';
import { fmix32, mixSeed, Rng } from './rng.js';
import { poolFor, prefetchEpoch, type PrefetchOptions, type WorkerPool } from './workers.js';
import { AUGMENT_MODES, type AugmentMode, type Batch, type LoaderOptions, type ResolvedLoaderOptions } from './batch.js';

export type { Batch, LoaderOptions } from './batch.js';

export interface EpochOptions {
  /** First batch to produce (for resuming mid-epoch). */
  startBatch?: number;
}

function checkEpoch(epoch: number): void {
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new Error(`BatchLoader: epoch must be a non-negative integer, got ${epoch}`);
}

function checkStart(startBatch: number): void {
  if (!Number.isInteger(startBatch) || startBatch < 0) throw new Error(`BatchLoader: startBatch must be a non-negative integer, got ${startBatch}`);
}

export class BatchLoader {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly cropPadding: number;
  readonly hflip: boolean;
  readonly augment: AugmentMode;
  /** Samples this loader yields per epoch: the dataset length or limit, or with a shard this
   *  rank's share, ceil(total / worldSize). */
  readonly size: number;
  /** Samples of the epoch before sharding (dataset length or limit). */
  readonly totalSize: number;
  readonly shard: { rank: number; worldSize: number };
  /** The options with defaults filled in (worker threads rebuild the loader from them). */
  readonly options: ResolvedLoaderOptions;
  private readonly lut: Float32Array; // channels*256: value of raw pixel v in channel c
  private pool: WorkerPool | undefined;
  private readonly spare: Float32Array[] = []; // recycled pixel buffers for the next batches
  private recycleToPool = false; // whether the batches being consumed come from the workers

  constructor(readonly dataset: ImageDataset, opts: LoaderOptions) {
    const { batchSize } = opts;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`BatchLoader: batchSize must be a positive integer, got ${batchSize} (--batch)`);
    this.batchSize = batchSize;
    this.shuffle = opts.shuffle ?? true;
    this.seed = opts.seed ?? 0;
    if (!Number.isSafeInteger(this.seed)) throw new Error(`BatchLoader: seed must be a safe integer, got ${this.seed} (--seed)`);
    this.dropLast = opts.dropLast ?? false;
    this.cropPadding = opts.cropPadding ?? 0;
    if (!Number.isInteger(this.cropPadding) || this.cropPadding < 0) throw new Error(`BatchLoader: cropPadding must be a non-negative integer, got ${this.cropPadding} (--crop-padding)`);
    this.hflip = opts.hflip ?? false;
    this.augment = opts.augment ?? 'per-sample';
    if (!AUGMENT_MODES.includes(this.augment)) throw new Error(`BatchLoader: augment must be ${AUGMENT_MODES.join(' or ')}, got ${JSON.stringify(this.augment)} (--augment)`);
    const limit = opts.limit ?? dataset.length;
    if (!Number.isInteger(limit) || limit < 0) throw new Error(`BatchLoader: limit must be a non-negative integer, got ${limit} (--limit)`);
    this.totalSize = Math.min(limit, dataset.length);
    const shard = opts.shard ?? { rank: 0, worldSize: 1 };
    if (!Number.isInteger(shard.worldSize) || shard.worldSize < 1 || !Number.isInteger(shard.rank) || shard.rank < 0 || shard.rank >= shard.worldSize)
      throw new Error(`BatchLoader: shard must be a rank in [0, worldSize) of a worldSize >= 1, got rank ${shard.rank} of ${shard.worldSize}`);
    this.shard = { rank: shard.rank, worldSize: shard.worldSize };
    this.size = Math.ceil(this.totalSize / shard.worldSize);
    // An empty epoch would train or evaluate to NaN: refuse it where every caller passes.
    if (this.size === 0) throw new Error(dataset.length === 0 ? `BatchLoader: dataset '${dataset.name}' has no samples` : `BatchLoader: limit 0 leaves no samples of dataset '${dataset.name}' (--limit)`);
    const C = dataset.channels;
    const mean = opts.mean ?? dataset.mean, std = opts.std ?? dataset.std;
    const normalize = opts.normalize ?? true;
    if (normalize && (mean.length !== C || std.length !== C)) throw new Error(`BatchLoader: mean/std need ${C} entries (dataset '${dataset.name}' has ${C} channels), got ${mean.length}/${std.length}`);
    if (normalize) for (const s of std) if (!(s > 0)) throw new Error(`BatchLoader: std entries must be > 0, got ${s}`);
    if (dataset.images.length < dataset.length * imageSize(dataset)) throw new Error(`BatchLoader: dataset '${dataset.name}' holds fewer pixels than length*C*H*W`);
    this.options = { batchSize, shuffle: this.shuffle, seed: this.seed, dropLast: this.dropLast, cropPadding: this.cropPadding, hflip: this.hflip, augment: this.augment, normalize, mean: [...mean], std: [...std], limit: this.totalSize, shard: this.shard };
    this.lut = new Float32Array(C * 256);
    for (let c = 0; c < C; c++) {
      for (let v = 0; v < 256; v++) this.lut[c * 256 + v] = normalize ? (v / 255 - mean[c]!) / std[c]! : v / 255;
    }
  }

  /** Number of batches per epoch. */
  get batchesPerEpoch(): number {
    return this.dropLast ? Math.floor(this.size / this.batchSize) : Math.ceil(this.size / this.batchSize);
  }

  /** The sample order of an epoch (indices into the dataset); with a shard, this rank's part. */
  order(epoch: number): Int32Array {
    checkEpoch(epoch);
    let full: Int32Array;
    if (!this.shuffle) {
      full = new Int32Array(this.totalSize);
      for (let i = 0; i < this.totalSize; i++) full[i] = i;
    } else {
      full = new Rng(mixSeed(this.seed, epoch)).permutation(this.totalSize);
    }
    const { rank, worldSize } = this.shard;
    if (worldSize === 1) return full;
    const mine = new Int32Array(this.size);
    for (let k = 0; k < this.size; k++) mine[k] = full[(rank + k * worldSize) % this.totalSize]!;
    return mine;
  }

  /** Synchronous iteration over the batches of an epoch. */
  *epoch(epoch: number, opts: EpochOptions = {}): Generator<Batch, void, undefined> {
    const startBatch = opts.startBatch ?? 0;
    checkStart(startBatch);
    const order = this.order(epoch);
    const nb = this.batchesPerEpoch;
    this.recycleToPool = false;
    for (let b = startBatch; b < nb; b++) yield this.makeBatch(order, epoch, b, this.spare.pop());
  }

  /** The batches of an epoch as an async iterable. With `workers` = 0 they are made in this
   *  thread between steps (PyTorch's num_workers=0); with N > 0, N worker threads prepare up to
   *  N * prefetchFactor batches ahead while this thread computes. Same batches either way.
   *  The workers are started on first use and kept for later epochs; close() ends them. */
  batches(epoch: number, opts: EpochOptions & PrefetchOptions = {}): AsyncIterable<Batch> {
    const workers = opts.workers ?? 0;
    if (!Number.isInteger(workers) || workers < 0) throw new Error(`BatchLoader: workers must be a non-negative integer, got ${workers} (--workers)`);
    const factor = opts.prefetchFactor ?? 2;
    if (!Number.isInteger(factor) || factor < 1) throw new Error(`BatchLoader: prefetchFactor must be a positive integer, got ${factor}`);
    checkEpoch(epoch);
    checkStart(opts.startBatch ?? 0);
    if (workers === 0) {
      const it = this.epoch(epoch, opts);
      return { [Symbol.asyncIterator]: () => ({ next: async () => it.next(), return: async () => it.return() }) };
    }
    this.pool = poolFor(this, this.pool, workers);
    this.recycleToPool = true;
    return prefetchEpoch(this, this.pool, epoch, opts.startBatch ?? 0, factor);
  }

  /** Ends the worker threads, if any (an idle loader does not keep the process alive anyway). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }

  /** Hands a batch's pixel buffer back for reuse once the caller is done with it (e.g. after
   *  copying it into a tensor): later batches overwrite it instead of allocating a new one, which
   *  saves page faults on large batches. The batch must not be read afterwards. */
  recycle(batch: Batch): void {
    const buf = batch.x.buffer;
    if (buf.byteLength === 0 || !(buf instanceof ArrayBuffer)) return; // detached or shared: not ours to reuse
    if (this.recycleToPool && this.pool) this.pool.recycle(buf);
    else if (this.spare.length < 4) this.spare.push(batch.x);
  }

  /** Batch `b` of an epoch whose order is `order`, written into `out` when it has the right size
   *  (every element is overwritten). */
  makeBatch(order: Int32Array, epoch: number, b: number, out?: Float32Array): Batch {
    const ds = this.dataset;
    const B = Math.min(this.batchSize, order.length - b * this.batchSize);
    if (B <= 0) throw new Error(`BatchLoader: batch ${b} is past the end of the epoch (${this.batchesPerEpoch} batches)`);
    const C = ds.channels, H = ds.height, W = ds.width, per = C * H * W;
    const x = out?.length === B * per ? out : new Float32Array(B * per);
    const y = new Int32Array(B);
    const indices = order.slice(b * this.batchSize, b * this.batchSize + B);
    const p = this.cropPadding;
    const augment = p > 0 || this.hflip;
    const epochKey = augment ? mixSeed(this.seed, epoch) : 0;
    if (augment && this.augment === 'per-batch') {
      const { dy, dx, flip } = this.draw(fmix32(epochKey ^ fmix32(b + 0x2545f491)));
      for (let k = 0; k < B; k++) {
        y[k] = ds.labels[indices[k]!]!;
        this.writeSample(x, k * per, indices[k]! * per, dy - p, dx - p, flip, true);
      }
      return { x, shape: [B, C, H, W], y, indices };
    }
    for (let k = 0; k < B; k++) {
      const i = indices[k]!;
      y[k] = ds.labels[i]!;
      // Three independent uint32 draws from the (seed, epoch, index) hash.
      const { dy, dx, flip } = augment ? this.draw(fmix32(epochKey ^ fmix32(i + 0x5bd1e995))) : { dy: p, dx: p, flip: false };
      this.writeSample(x, k * per, i * per, dy - p, dx - p, flip, false);
    }
    return { x, shape: [B, C, H, W], y, indices };
  }

  /** Crop offsets in [0, 2p] and a flip decision from the hash h (per sample or per batch). */
  private draw(h: number): { dy: number; dx: number; flip: boolean } {
    const p = this.cropPadding;
    let dy = p, dx = p;
    if (p > 0) {
      dy = Math.floor((fmix32(h + 0x68e31da4) / 4294967296) * (2 * p + 1));
      dx = Math.floor((fmix32(h + 0xb5297a4d) / 4294967296) * (2 * p + 1));
    }
    return { dy, dx, flip: this.hflip && fmix32(h + 0x1b56c4e9) < 0x80000000 };
  }

  /** Writes one sample: out(i, j) = lut[src(i + oy, j' + ox)] with j' = flip ? W-1-j : j,
   *  and the pad value where (i + oy, j' + ox) falls outside the image: that of raw 0, or 0 itself
   *  with `zeroPad` (the reference's padding of normalized pixels). */
  private writeSample(x: Float32Array, dstBase: number, srcBase: number, oy: number, ox: number, flip: boolean, zeroPad: boolean): void {
    const ds = this.dataset, img = ds.images, lut = this.lut;
    const C = ds.channels, H = ds.height, W = ds.width, HW = H * W;
    // Range of output columns j whose source column is inside the image.
    const jlo = flip ? Math.max(0, ox) : Math.max(0, -ox);
    const jhi = flip ? Math.min(W - 1, W - 1 + ox) : Math.min(W - 1, W - 1 - ox);
    for (let c = 0; c < C; c++) {
      const L = c * 256;
      const pad = zeroPad ? 0 : lut[L]!;
      const src = srcBase + c * HW, dst = dstBase + c * HW;
      for (let i = 0; i < H; i++) {
        const sy = i + oy;
        const d = dst + i * W;
        if (sy < 0 || sy >= H || jlo > jhi) { x.fill(pad, d, d + W); continue; }
        for (let j = 0; j < jlo; j++) x[d + j] = pad;
        for (let j = jhi + 1; j < W; j++) x[d + j] = pad;
        const s = src + sy * W;
        if (flip) {
          // source column = W-1-j+ox
          for (let j = jlo, sc = s + W - 1 - jlo + ox; j <= jhi; j++, sc--) x[d + j] = lut[L + img[sc]!]!;
        } else {
          for (let j = jlo, sc = s + jlo + ox; j <= jhi; j++, sc++) x[d + j] = lut[L + img[sc]!]!;
        }
      }
    }
  }
}
