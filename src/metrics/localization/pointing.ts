// The pointing game (Zhang et al., 2016, as TorchRay scores it) and the energy-based pointing game
// (Score-CAM, Wang et al., 2020).
import { checkBoxes, checkMaps, checkMasks, checkShape } from './check.js';
import { LocalizationMetric, meanInOrder } from './per_class.js';

/** Default tolerance: 15 px at 224 px, scaled linearly with the larger image side (not rounded). */
export const pointingTolerance = (h: number, w: number): number => (15 * Math.max(h, w)) / 224;

/** The index (within the map) of the maximum of maps[off .. off + hw), the first on ties (np.argmax). */
export function mapMaximum(maps: ArrayLike<number>, off: number, hw: number): number {
  let arg = 0;
  for (let p = 1; p < hw; p++) if (maps[off + p]! > maps[off + arg]!) arg = p;
  return arg;
}

/** 1 when pixel `at` of an h x w plane lies on the mask at masks[off ..] or within `tolerance` px of a mask pixel. */
export function pointsAt(masks: ArrayLike<number>, off: number, h: number, w: number, at: number, tolerance: number): number {
  const py = (at / w) | 0, px = at - py * w;
  const r = Math.floor(tolerance), t2 = tolerance * tolerance;
  for (let y = Math.max(0, py - r); y <= Math.min(h - 1, py + r); y++) {
    for (let x = Math.max(0, px - r); x <= Math.min(w - 1, px + r); x++) {
      if (masks[off + y * w + x] && (y - py) ** 2 + (x - px) ** 2 <= t2) return 1;
    }
  }
  return 0;
}

/** Part masks, flat: image i's entries are offsets[i] .. offsets[i + 1] - 1 (src/data/vocpart.ts VocPartMasks). */
export interface PartMaskSet {
  names: readonly string[];
  offsets: ArrayLike<number>;
  part: ArrayLike<number>;
  masks: Uint8Array;
}

/** One part's pointing game: over the images where the part is visible (a non-empty mask). */
export interface PartPointing { part: string; images: number; hitRate: number }

/**
 * The pointing game per part: for each part, the share of the images showing it whose map maximum lies
 * on it (within `tolerance`, default pointingTolerance). Images whose mask of that part is empty do not
 * count; a part never visible gets images 0 and hitRate NaN. Parts in the order of `parts.names`.
 */
export function partPointing(maps: Float32Array, shape: readonly [number, number, number], parts: PartMaskSet, opts: { tolerance?: number } = {}): PartPointing[] {
  checkShape('shape', shape, 3);
  checkMaps('maps', maps, shape);
  const [n, h, w] = shape, hw = h * w;
  if (parts.offsets.length !== n + 1) throw new Error(`parts: offsets must have ${n + 1} entries (images + 1), got ${parts.offsets.length}`);
  const entries = parts.offsets[n]!;
  if (parts.part.length < entries || parts.masks.length < entries * hw) throw new Error(`parts: ${entries} entries need ${entries} part indices and ${entries * hw} mask bytes`);
  const tolerance = opts.tolerance ?? pointingTolerance(h, w);
  const hits = new Array<number>(parts.names.length).fill(0), seen = new Array<number>(parts.names.length).fill(0);
  for (let i = 0; i < n; i++) {
    const at = mapMaximum(maps, i * hw, hw);
    for (let e = parts.offsets[i]!; e < parts.offsets[i + 1]!; e++) {
      const k = parts.part[e]!;
      if (!(k >= 0 && k < parts.names.length)) throw new Error(`parts: entry ${e} names part ${k}, out of range [0, ${parts.names.length})`);
      let visible = false;
      for (let p = e * hw; p < (e + 1) * hw && !visible; p++) visible = parts.masks[p] !== 0;
      if (!visible) continue;
      seen[k]++;
      hits[k] += pointsAt(parts.masks, e * hw, h, w, at, tolerance);
    }
  }
  return parts.names.map((part, k) => ({ part, images: seen[k]!, hitRate: seen[k] ? hits[k]! / seen[k]! : NaN }));
}

/**
 * Hit when the map's maximum (the first in row-major order on ties, as np.argmax) lies on the mask or
 * within `tolerance` px of a mask pixel (Euclidean: dy^2 + dx^2 <= tolerance^2). An empty mask is a miss.
 * Reduced to the hit rate.
 */
export class PointingGame extends LocalizationMetric<number, { hitRate: number }> {
  readonly name = 'pointing game';
  private readonly h: number;
  private readonly w: number;
  readonly tolerance: number;
  constructor(private readonly maps: Float32Array, private readonly masks: Uint8Array, shape: readonly [number, number, number],
    opts: { tolerance?: number } = {}) {
    checkShape('shape', shape, 3);
    checkMaps('maps', maps, shape);
    checkMasks('masks', masks, shape);
    super(shape[0]);
    [, this.h, this.w] = shape;
    this.tolerance = opts.tolerance ?? pointingTolerance(this.h, this.w);
    if (!(this.tolerance >= 0)) throw new Error(`tolerance: expected a number >= 0, got ${opts.tolerance}`);
  }

  perImage(i: number): number {
    const { h, w } = this, off = i * h * w;
    return pointsAt(this.masks, off, h, w, mapMaximum(this.maps, off, h * w), this.tolerance);
  }

  reduce(hits: number[]): { hitRate: number } {
    return { hitRate: meanInOrder(hits) };
  }
}

/**
 * Energy-based pointing game: the share of the map's energy inside the ground-truth box (inclusive
 * pixels), the map clipped at 0 first (Score-CAM's maps are ReLU'd; its min-max scaling does not change
 * the share). A map with no positive energy scores 0. Reduced to the mean share.
 */
export class EnergyPointingGame extends LocalizationMetric<number, { energy: number }> {
  readonly name = 'energy-based pointing game';
  private readonly h: number;
  private readonly w: number;
  constructor(private readonly maps: Float32Array, private readonly boxes: ArrayLike<number>, shape: readonly [number, number, number]) {
    checkShape('shape', shape, 3);
    checkMaps('maps', maps, shape);
    checkBoxes('boxes', boxes, shape[0], shape[1], shape[2]);
    super(shape[0]);
    [, this.h, this.w] = shape;
  }

  perImage(i: number): number {
    const { h, w } = this, off = i * h * w;
    const [x0, y0, x1, y1] = [0, 1, 2, 3].map((j) => this.boxes[4 * i + j]);
    let inside = 0, total = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = Math.max(0, this.maps[off + y * w + x]);
        total += v;
        if (y >= y0 && y <= y1 && x >= x0 && x <= x1) inside += v;
      }
    }
    return total > 0 ? inside / total : 0;
  }

  reduce(shares: number[]): { energy: number } {
    return { energy: meanInOrder(shares) };
  }
}
