// Cluttered Fashion-MNIST / MNIST: localization data with masks and boxes, generated
// deterministically from the idx files (issue 10, item 1).
//
// Sample i of a split, with options (canvas S, distractors D, seed), is made from an Rng seeded by
// mixSeed(seed, split (train 0, test 1), i) alone, so any index can be generated on its own and the
// same seed always gives the same bytes:
//  1. scale f = 1 + (1.6 - 1) * u, u uniform in [0, 1); the 28x28 item i is resized to
//     round(28 f) x round(28 f) by bilinear interpolation with half-pixel centres (align_corners
//     false, source coordinates clamped at 0: torch's F.interpolate(mode='bilinear',
//     align_corners=False), which equals PIL's bilinear for upscaling), rounded half up to uint8;
//  2. it is pasted at (x, y), uniform over the positions that keep it fully inside the S x S canvas
//     (zeros elsewhere);
//  3. D distractors: each an 8x8 crop at a uniform position of another image j != i of the same
//     split (j uniform over the others), pasted at a uniform position inside the canvas,
//     composited by pixel-wise maximum;
//  4. mask = pasted item's pixels > 10 % of the item's maximum (the distractors play no part);
//     box = the mask's tight box [x0, y0, x1, y1], x1 and y1 inclusive (wsolevaluation's pixel
//     convention).
// Labels are the item's; normalization mean/std are computed from the generated pixels.
import { computeMeanStd, maskBox, sharedBytes, type ImageDataset } from './dataset.js';
import { loadMnistLike, type MnistKind, type Split } from './idx.js';
import { mixSeed, Rng } from './rng.js';

export interface ClutteredOptions {
  /** Canvas side S (default 64). */
  canvas?: number;
  /** Number of 8x8 distractors (default 6). */
  distractors?: number;
  /** Generation seed (default 0). */
  seed?: number;
  /** Generate only the first N samples (0 or absent = all). */
  limit?: number;
}

export const CLUTTER_DEFAULTS = { canvas: 64, distractors: 6, seed: 0 } as const;
export const SCALE_MIN = 1.0;
export const SCALE_MAX = 1.6;
export const DISTRACTOR_SIZE = 8;
export const MASK_FRACTION = 0.1;
const MAX_CANVAS = 1024;
const MAX_DISTRACTORS = 1000;

export interface ClutteredSample {
  /** S*S uint8 pixels. */
  image: Uint8Array;
  /** S*S uint8, 1 = item. */
  mask: Uint8Array;
  /** [x0, y0, x1, y1], inclusive. */
  box: [number, number, number, number];
  label: number;
}

/** The canvas sides that fit the largest scaled item of a source (28x28 digits by default), [min, max]. */
export function clutterCanvasRange(source?: { height: number; width: number }): [number, number] {
  const h = source?.height ?? 28, w = source?.width ?? 28;
  return [Math.max(Math.round(h * SCALE_MAX), Math.round(w * SCALE_MAX), DISTRACTOR_SIZE), MAX_CANVAS];
}

/** Checks the options; errors name the flag. */
export function resolveClutterOptions(o: ClutteredOptions, source?: { height: number; width: number }): Required<Omit<ClutteredOptions, 'limit'>> {
  const canvas = o.canvas ?? CLUTTER_DEFAULTS.canvas;
  const distractors = o.distractors ?? CLUTTER_DEFAULTS.distractors;
  const seed = o.seed ?? CLUTTER_DEFAULTS.seed;
  const h = source?.height ?? 28, w = source?.width ?? 28;
  const [need] = clutterCanvasRange(source);
  if (!Number.isInteger(canvas) || canvas < need || canvas > MAX_CANVAS) {
    throw new Error(`cluttered: canvas must be an integer in [${need}, ${MAX_CANVAS}] (the largest scaled ${h}x${w} item must fit), got ${canvas} (--canvas)`);
  }
  if (!Number.isInteger(distractors) || distractors < 0 || distractors > MAX_DISTRACTORS) {
    throw new Error(`cluttered: distractors must be an integer in [0, ${MAX_DISTRACTORS}], got ${distractors} (--distractors)`);
  }
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`cluttered: seed must be a non-negative integer, got ${seed} (--seed)`);
  return { canvas, distractors, seed };
}

/** Bilinear resize of one h x w uint8 plane to oh x ow (align_corners false, rounded half up). */
export function resizeBilinear(src: Uint8Array, h: number, w: number, oh: number, ow: number): Uint8Array {
  const out = new Uint8Array(oh * ow);
  const sy = h / oh, sx = w / ow;
  for (let y = 0; y < oh; y++) {
    const fy = Math.max((y + 0.5) * sy - 0.5, 0);
    const y0 = Math.floor(fy), y1 = Math.min(y0 + 1, h - 1), ly = fy - y0;
    for (let x = 0; x < ow; x++) {
      const fx = Math.max((x + 0.5) * sx - 0.5, 0);
      const x0 = Math.floor(fx), x1 = Math.min(x0 + 1, w - 1), lx = fx - x0;
      const top = src[y0 * w + x0]! * (1 - lx) + src[y0 * w + x1]! * lx;
      const bot = src[y1 * w + x0]! * (1 - lx) + src[y1 * w + x1]! * lx;
      out[y * ow + x] = Math.min(255, Math.floor(top * (1 - ly) + bot * ly + 0.5));
    }
  }
  return out;
}

/** Generates sample `index` of a cluttered split from its 1-channel source split. */
export function clutteredSample(source: ImageDataset, split: Split, index: number, opts: ClutteredOptions = {}): ClutteredSample {
  const { canvas: S, distractors: D, seed } = resolveClutterOptions(opts, source);
  if (source.channels !== 1) throw new Error(`cluttered: the source '${source.name}' must have 1 channel, got ${source.channels}`);
  const n = source.length, h = source.height, w = source.width, hw = h * w;
  if (!Number.isInteger(index) || index < 0 || index >= n) throw new Error(`cluttered: index ${index} is out of range [0, ${n})`);
  if (D > 0 && n < 2) throw new Error(`cluttered: distractors come from other images, but '${source.name}' ${split} holds only ${n} (--distractors 0?)`);
  const rng = new Rng(mixSeed(seed, split === 'train' ? 0 : 1, index));
  const f = SCALE_MIN + (SCALE_MAX - SCALE_MIN) * rng.float();
  const ih = Math.round(h * f), iw = Math.round(w * f);
  const item = resizeBilinear(source.images.subarray(index * hw, (index + 1) * hw), h, w, ih, iw);
  const px = rng.int(S - iw + 1), py = rng.int(S - ih + 1);
  const image = new Uint8Array(S * S), mask = new Uint8Array(S * S);
  let max = 0;
  for (let k = 0; k < item.length; k++) if (item[k]! > max) max = item[k]!;
  const thr = MASK_FRACTION * max;
  for (let y = 0; y < ih; y++) {
    for (let x = 0; x < iw; x++) {
      const v = item[y * iw + x]!;
      const o = (py + y) * S + px + x;
      image[o] = v;
      mask[o] = v > thr ? 1 : 0;
    }
  }
  for (let d = 0; d < D; d++) {
    let j = rng.int(n - 1);
    if (j >= index) j++;
    const cx = rng.int(w - DISTRACTOR_SIZE + 1), cy = rng.int(h - DISTRACTOR_SIZE + 1);
    const dx = rng.int(S - DISTRACTOR_SIZE + 1), dy = rng.int(S - DISTRACTOR_SIZE + 1);
    const base = j * hw;
    for (let y = 0; y < DISTRACTOR_SIZE; y++) {
      for (let x = 0; x < DISTRACTOR_SIZE; x++) {
        const v = source.images[base + (cy + y) * w + cx + x]!;
        const o = (dy + y) * S + dx + x;
        if (v > image[o]!) image[o] = v;
      }
    }
  }
  const box = maskBox(mask, S, S);
  if (!box) throw new Error(`cluttered: image ${index} of '${source.name}' ${split} is blank (all zero), so it has no mask`);
  return { image, mask, box, label: source.labels[index]! };
}

/** Generates a whole cluttered split (or its first `limit` samples) from a loaded source split. */
export function clutterDataset(source: ImageDataset, split: Split, opts: ClutteredOptions = {}, name = `cluttered-${source.name}`): ImageDataset {
  const { canvas: S } = resolveClutterOptions(opts, source);
  const limit = opts.limit ?? 0;
  if (!Number.isInteger(limit) || limit < 0) throw new Error(`cluttered: limit must be a non-negative integer, got ${limit} (--limit)`);
  const n = limit > 0 ? Math.min(limit, source.length) : source.length;
  const ss = S * S;
  const images = sharedBytes(n * ss), masks = sharedBytes(n * ss);
  const boxes = new Int32Array(n * 4), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const s = clutteredSample(source, split, i, opts);
    images.set(s.image, i * ss);
    masks.set(s.mask, i * ss);
    boxes.set(s.box, i * 4);
    labels[i] = s.label;
  }
  const { mean, std } = computeMeanStd(images, n, 1, S, S);
  return {
    name, numClasses: source.numClasses, classNames: [...source.classNames], channels: 1, height: S, width: S,
    length: n, images, labels, mean, std, masks, boxes,
  };
}

/** Loads the idx source (root as for fashion-mnist / mnist) and generates the cluttered split. */
export function loadCluttered(kind: MnistKind, root: string | undefined, split: Split, opts: ClutteredOptions = {}): ImageDataset {
  resolveClutterOptions(opts);
  return clutterDataset(loadMnistLike(root, split, kind), split, opts, `cluttered-${kind}`);
}
