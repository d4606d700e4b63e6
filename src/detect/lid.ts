// Local intrinsic dimensionality (LID, Ma et al. 2018, xingjunm/lid_adversarial_subspace_detection):
// at each layer, the maximum-likelihood estimate of an image's LID among the clean images of its minibatch
// (their mle_batch: the distances to the k nearest, the first dropped, LID = -k / sum_i log(d_i / d_k);
// k = min(k, minibatch - 1)); clean, noisy and adversarial copies of a minibatch are all estimated against
// that minibatch's clean images, as their get_lids_random_batch. Then the per-layer LIDs, z-scored with the
// fit split's mean and deviation (their code min-max scales), go into sklearn's LogisticRegressionCV as
// theirs; score = its decision function. Defaults as their code: k 20, minibatches of 100.
// Layers: Ma et al. take every layer's output; csgnet takes the model's named blocks, each output flattened:
// a ResNet's stages (layer1, layer2, ...), otherwise each max-pooling layer (LeNet's pool1, pool2; VGG's
// pools), then the last feature map when it is not already the last block (VGG), then the logits.
// A last minibatch of 1 or 2 images joins the one before it: with k = min(k, m - 1) = 1 the estimate is
// -1 / log(1) = -inf whatever the distances (their code gives NaN or -inf there).
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { MaxPool2d, type Module } from '../torch/nn/index.js';
import type { PixelModel } from '../attack/pixel_model.js';
import type { CsgBackbone } from '../models/types.js';
import { Detector, checkFlags, type Copies, type CopiesDetector, type DetectorContext, type DetectorOptions } from './base.js';
import { Standardizer, logisticRegressionCV, type LogisticRegression } from './logistic.js';

export interface LidOptions extends DetectorOptions {
  /** nearest neighbours (default 20) */
  k?: number;
  /** images per minibatch, the LID reference set (default 100) */
  minibatch?: number;
  /** dotted module names whose outputs are used (default defaultLidBlocks); the logits are always last */
  blocks?: string[];
}

/** Ma et al.'s mle_batch: the LID [N] of each row of `batch` [N, D] among the rows of `data` [n, D] (float64). */
export function mleBatch(data: Tensor, batch: Tensor, k: number): Tensor {
  const kk = Math.min(k, data.shape[0]! - 1);
  if (kk < 1) throw new Error(`lid: the reference minibatch needs at least 2 images, got ${data.shape[0]}`);
  return torch.tidy(() => {
    const d = batch.square().sum(1, true).add(data.square().sum(1).unsqueeze(0)).sub(batch.matmul(data.t()).mul(2)).clampMin(0).sqrt();
    const v = d.topk(kk + 1, 1, false, true)[0].narrow(1, 1, kk);
    return v.div(v.narrow(1, kk - 1, 1)).log().sum(1).reciprocal().mul(-kk);
  });
}

/** The named blocks of a backbone (see the header): its layerN stages, else its max-pooling layers. */
export function defaultLidBlocks(b: CsgBackbone): string[] {
  const stages = b.namedChildren().map(([n]) => n).filter((n) => /^layer\d+$/.test(n));
  return stages.length ? stages : b.namedModules().filter(([, m]) => m instanceof MaxPool2d).map(([n]) => n);
}

/** The outputs of `blocks` (then the last feature map if not the last of them, then the logits), each flattened to float64 [N, D]. */
export function blockOutputs(pm: PixelModel, x01: Tensor, blocks: string[]): Tensor[] {
  const mods = new Map(pm.backbone.namedModules());
  const seen: { y: Tensor; flat: Tensor }[] = [];
  const hooked: Module[] = [];
  try {
    for (const name of blocks) {
      const m = mods.get(name);
      if (!m || name === '') throw new Error(`lid: the model has no module '${name}' (blocks are dotted module names, e.g. ${defaultLidBlocks(pm.backbone).join(', ')})`);
      const call = m.call;
      // a forward hook: the output is copied (the model's chain frees its intermediates)
      m.call = (t: Tensor) => { const y = call.call(m, t); seen.push({ y, flat: y.detach().flatten(1).to('float64').clone() }); return y; };
      hooked.push(m);
    }
    const f = pm.backbone.features(pm.normalize(x01));
    const logits = pm.backbone.head(f);
    if (seen.length !== blocks.length) throw new Error(`lid: of the blocks ${blocks.join(', ')}, ${blocks.length - seen.length} did not run exactly once in the forward pass`);
    const out = seen.map((s) => s.flat);
    if (seen[seen.length - 1]?.y !== f) out.push(f.flatten(1).to('float64'));
    out.push(logits.to('float64'));
    return out;
  } finally {
    for (const m of hooked) delete (m as { call?: unknown }).call;
  }
}

export class LidDetector extends Detector implements CopiesDetector {
  readonly name = 'lid' as const;
  readonly k: number;
  readonly minibatch: number;
  private readonly blocksOption: string[] | undefined;
  private readonly scaler = new Standardizer();
  private lr: LogisticRegression | null = null;
  /** the C LogisticRegressionCV chose on the last fit */
  chosenC = NaN;

  constructor(o: LidOptions = {}) {
    super(o);
    this.k = o.k ?? 20;
    this.minibatch = o.minibatch ?? 100;
    if (!(Number.isInteger(this.k) && this.k >= 1)) throw new Error(`lid: k must be a positive integer, got ${o.k}`);
    if (!(Number.isInteger(this.minibatch) && this.minibatch >= 3)) throw new Error(`lid: minibatch must be an integer >= 3, got ${o.minibatch}`);
    this.blocksOption = o.blocks;
  }

  /** The layers of the last estimate: the blocks, 'features' (the last feature map) where it is not the last block, 'logits'. */
  layerNames: string[] = [];

  /** The blocks whose outputs are used (the last feature map and the logits follow). */
  get blocks(): string[] { return this.blocksOption ?? defaultLidBlocks(this.model.backbone); }

  override prepare(ctx: DetectorContext): void {
    super.prepare(ctx);
    const mods = new Set(ctx.model.backbone.namedModules().map(([n]) => n));
    for (const b of this.blocks) if (!mods.has(b) || b === '') throw new Error(`lid: the model has no module '${b}'`);
  }

  /** Minibatches [start, count): of `minibatch` images, a last one of 1 or 2 joined to the one before. */
  private minibatches(n: number): [number, number][] {
    const out: [number, number][] = [];
    for (let s = 0; s < n; s += this.minibatch) out.push([s, Math.min(this.minibatch, n - s)]);
    if (out.length > 1 && out[out.length - 1]![1] < 3) { const [, m] = out.pop()!; out[out.length - 1]![1] += m; }
    return out;
  }

  /**
   * The LIDs [N * layers] (row-major) of each set of `sets` among the minibatch's rows of `reference`
   * (all row-aligned): Ma et al.'s characteristics.
   */
  characteristics(reference: Tensor, sets: Tensor[]): Float64Array[] {
    const n = this.checkImages(reference);
    for (const s of sets) if (this.checkImages(s) !== n) throw new Error(`lid: the copies must be row-aligned: ${n} and ${s.shape[0]} images`);
    if (n < 3) throw new Error(`lid: needs at least 3 images to estimate LID among (k = min(k, n - 1) >= 2), got ${n}`);
    const device = this.model.backbone.fc.weight.device, blocks = this.blocks;
    let out: Float64Array[] | null = null;
    let L = 0;
    for (const [s, m] of this.minibatches(n)) {
      torch.tidy(() => torch.noGrad(() => {
        const acts = (x: Tensor) => blockOutputs(this.model, x.narrow(0, s, m).to({ dtype: 'float32', device }), blocks);
        const ref = acts(reference);
        L = ref.length;
        this.layerNames = [...blocks, ...(L === blocks.length + 2 ? ['features'] : []), 'logits'];
        out ??= sets.map(() => new Float64Array(n * L));
        sets.forEach((x, si) => {
          const a = x === reference ? ref : acts(x);
          const lids = torch.stack(a.map((t, l) => mleBatch(ref[l]!, t, this.k)), 1).toFloat64Array();   // [m, L]
          const bad = lids.findIndex((v) => !Number.isFinite(v));
          if (bad >= 0) throw new Error(`lid: the LID of image ${s + Math.floor(bad / L)} at ${this.layerNames[bad % L]} is ${lids[bad]} (its nearest activations coincide)`);
          out![si]!.set(lids, s * L);
        });
      }));
    }
    return out!;
  }

  private fitFeatures(f: Float64Array, flags: ArrayLike<number>, L: number): void {
    this.scaler.fit(f, L);
    const r = logisticRegressionCV(this.scaler.transform(f), flags, L);
    this.lr = r.model; this.chosenC = r.C;
  }

  private decide(f: Float64Array): Float64Array {
    if (!this.lr) throw new Error(`${this.name}: call fit on the detection split before score`);
    return this.lr.decisionFunction(this.scaler.transform(f));
  }

  fitCopies(c: Copies): void {
    const [clean, noisy, adv] = this.characteristics(c.clean, [c.clean, c.noisy, c.adv]);
    const n = c.clean.shape[0]!, L = clean!.length / n;
    const f = new Float64Array(3 * n * L);
    f.set(clean!, 0); f.set(noisy!, n * L); f.set(adv!, 2 * n * L);
    this.fitFeatures(f, new Uint8Array(3 * n).fill(1, 2 * n), L);
  }

  scoreCopies(c: Copies): { clean: Float64Array; noisy: Float64Array; adv: Float64Array } {
    void this.model;
    if (!this.lr) throw new Error(`${this.name}: call fit on the detection split before score`);
    const [clean, noisy, adv] = this.characteristics(c.clean, [c.clean, c.noisy, c.adv]);
    return { clean: this.decide(clean!), noisy: this.decide(noisy!), adv: this.decide(adv!) };
  }

  /** Without aligned clean copies: each image's LID among its own minibatch (Ma et al.'s estimate for clean images). */
  override fit(x01: Tensor, adversarial: Uint8Array): void {
    checkFlags(this.name, this.checkImages(x01), adversarial);
    const [f] = this.characteristics(x01, [x01]);
    this.fitFeatures(f!, adversarial, f!.length / x01.shape[0]!);
  }

  score(x01: Tensor): Float64Array {
    void this.model;
    if (!this.lr) throw new Error(`${this.name}: call fit on the detection split before score`);
    return this.decide(this.characteristics(x01, [x01])[0]!);
  }
}
