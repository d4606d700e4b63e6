// The pointing game (Zhang et al., 2016, as TorchRay scores it) and the energy-based pointing game
// (Score-CAM, Wang et al., 2020).
import { checkBoxes, checkMaps, checkMasks, checkShape } from './check.js';
import { LocalizationMetric, meanInOrder } from './per_class.js';

/** Default tolerance: 15 px at 224 px, scaled linearly with the larger image side (not rounded). */
export const pointingTolerance = (h: number, w: number): number => (15 * Math.max(h, w)) / 224;

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
    const { h, w } = this, hw = h * w, off = i * hw;
    let arg = 0;
    for (let p = 1; p < hw; p++) if (this.maps[off + p] > this.maps[off + arg]) arg = p;
    const py = (arg / w) | 0, px = arg - py * w;
    const r = Math.floor(this.tolerance), t2 = this.tolerance * this.tolerance;
    for (let y = Math.max(0, py - r); y <= Math.min(h - 1, py + r); y++) {
      for (let x = Math.max(0, px - r); x <= Math.min(w - 1, px + r); x++) {
        if (this.masks[off + y * w + x] && (y - py) ** 2 + (x - px) ** 2 <= t2) return 1;
      }
    }
    return 0;
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
