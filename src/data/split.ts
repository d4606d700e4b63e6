// Subsets and seeded train/validation splits.
import { imageSize, sharedBytes, type ImageDataset } from './dataset.js';
import { Rng } from './rng.js';

/** A new dataset holding the given samples (copied, in the given order). Class names and
 *  the normalization mean/std are kept from the parent, so train and val normalize alike. */
export function subset(ds: ImageDataset, indices: ArrayLike<number>, name = ds.name): ImageDataset {
  const per = imageSize(ds);
  const n = indices.length;
  const images = sharedBytes(n * per);
  const labels = new Int32Array(n);
  const hw = ds.height * ds.width;
  const masks = ds.masks ? sharedBytes(n * hw) : undefined;
  const boxes = ds.boxes ? new Int32Array(n * 4) : undefined;
  for (let k = 0; k < n; k++) {
    const i = indices[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= ds.length) throw new Error(`subset of '${ds.name}': index ${i} (position ${k}) is out of range [0, ${ds.length})`);
    images.set(ds.images.subarray(i * per, (i + 1) * per), k * per);
    labels[k] = ds.labels[i]!;
    masks?.set(ds.masks!.subarray(i * hw, (i + 1) * hw), k * hw);
    boxes?.set(ds.boxes!.subarray(i * 4, i * 4 + 4), k * 4);
  }
  const out: ImageDataset = { ...ds, name, length: n, images, labels, classNames: [...ds.classNames], mean: [...ds.mean], std: [...ds.std] };
  if (masks) out.masks = masks; else delete out.masks;
  if (boxes) out.boxes = boxes; else delete out.boxes;
  return out;
}

export interface SplitResult {
  train: ImageDataset;
  val: ImageDataset;
  /** Indices into the parent dataset, ascending. */
  trainIndices: Int32Array;
  valIndices: Int32Array;
}

/**
 * Seeded validation split. Stratified by default: the validation set gets
 * round(N * valFraction) samples in total, spread over the classes in proportion to their
 * counts (each class gets floor(n_c * f), the remainder goes to the classes with the
 * largest fractional parts, ties to the lower class index); within each class the samples
 * are chosen by a seeded shuffle. With `stratified: false` the samples are drawn from one
 * seeded permutation of all indices. Both subsets keep the parent's order (indices
 * ascending) and the parent's mean/std. The same (dataset, valFraction, seed) always gives
 * the same split.
 */
export function splitDataset(ds: ImageDataset, valFraction: number, seed: number, opts: { stratified?: boolean } = {}): SplitResult {
  if (!(valFraction >= 0 && valFraction < 1)) throw new Error(`splitDataset: valFraction must be in [0, 1), got ${valFraction} (--val-fraction)`);
  const stratified = opts.stratified ?? true;
  const n = ds.length;
  const nVal = Math.round(n * valFraction);
  const rng = new Rng(seed);
  const isVal = new Uint8Array(n);
  if (stratified) {
    const byClass: number[][] = Array.from({ length: ds.numClasses }, () => []);
    for (let i = 0; i < n; i++) {
      const l = ds.labels[i]!;
      if (l < 0 || l >= ds.numClasses) throw new Error(`splitDataset: label ${l} of sample ${i} is out of range [0, ${ds.numClasses})`);
      byClass[l]!.push(i);
    }
    const quota = byClass.map((idx) => Math.floor(idx.length * valFraction));
    let left = nVal - quota.reduce((a, b) => a + b, 0);
    const order = byClass.map((idx, c) => ({ c, frac: idx.length * valFraction - quota[c]! }))
      .filter((o) => quota[o.c]! < byClass[o.c]!.length)
      .sort((a, b) => b.frac - a.frac || a.c - b.c);
    for (let k = 0; left > 0 && k < order.length; k++, left--) quota[order[k]!.c]!++;
    byClass.forEach((idx, c) => {
      const shuffled = rng.shuffle(idx.slice());
      for (let k = 0; k < quota[c]!; k++) isVal[shuffled[k]!] = 1;
    });
  } else {
    const perm = rng.permutation(n);
    for (let k = 0; k < nVal; k++) isVal[perm[k]!] = 1;
  }
  const trainIdx: number[] = [], valIdx: number[] = [];
  for (let i = 0; i < n; i++) (isVal[i] ? valIdx : trainIdx).push(i);
  // Training or validating on nothing gives NaN metrics, not an error: refuse it here.
  const frac = `valFraction ${valFraction} (--val-fraction) of the ${n} samples of '${ds.name}'`;
  if (trainIdx.length === 0) throw new Error(`splitDataset: ${frac} leaves no training samples`);
  if (valIdx.length === 0 && valFraction > 0) throw new Error(`splitDataset: ${frac} holds out no samples (round(${n} * ${valFraction}) = 0); use a larger fraction, or 0 to validate on the test split`);
  const trainIndices = Int32Array.from(trainIdx), valIndices = Int32Array.from(valIdx);
  return { train: subset(ds, trainIndices), val: subset(ds, valIndices), trainIndices, valIndices };
}
