// The boxes of contourBoxes at many thresholds at once, for MaxBoxAccV2: one incremental union-find
// sweep per image instead of a labelling per threshold (same boxes; the golden checks both).
// Foreground q > thr grows as thr falls (8-connected components merge); background q <= thr grows as
// thr rises (4-connected holes merge). Each component keeps its pixel extents.

function iouAgainst(x0: number, y0: number, x1: number, y1: number, gt: ArrayLike<number>, o: number): number {
  const ix = Math.max(0, Math.min(x1, gt[o + 2]) - Math.max(x0, gt[o]) + 1);
  const iy = Math.max(0, Math.min(y1, gt[o + 3]) - Math.max(y0, gt[o + 1]) + 1);
  const inter = ix * iy;
  const den = (x1 - x0 + 1) * (y1 - y0 + 1) + (gt[o + 2] - gt[o] + 1) * (gt[o + 3] - gt[o + 1] + 1) - inter;
  return den <= 0 ? 0 : inter / den;
}

/** Union-find over pixels with extents per root and a touches-the-edge flag. */
class Components {
  readonly parent: Int32Array;
  readonly ext: Int32Array; // per root: xmin, ymin, xmax, ymax
  readonly edge: Uint8Array;
  readonly added: Uint8Array;
  readonly roots = new Set<number>();
  constructor(readonly h: number, readonly w: number) {
    this.parent = new Int32Array(h * w);
    this.ext = new Int32Array(4 * h * w);
    this.edge = new Uint8Array(h * w);
    this.added = new Uint8Array(h * w);
  }

  find(p: number): number {
    const par = this.parent;
    while (par[p] !== p) { par[p] = par[par[p]]; p = par[p]; }
    return p;
  }

  add(p: number, eight: boolean): void {
    const { w, h } = this, y = (p / w) | 0, x = p - y * w;
    this.parent[p] = p;
    const e = this.ext;
    e[4 * p] = x; e[4 * p + 1] = y; e[4 * p + 2] = x; e[4 * p + 3] = y;
    this.edge[p] = x === 0 || y === 0 || x === w - 1 || y === h - 1 ? 1 : 0;
    this.added[p] = 1;
    this.roots.add(p);
    for (let dy = -1; dy <= 1; dy++) {
      const yy = y + dy;
      if (yy < 0 || yy >= h) continue;
      for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx;
        if ((dx === 0 && dy === 0) || xx < 0 || xx >= w || (!eight && dx !== 0 && dy !== 0)) continue;
        const q = yy * w + xx;
        if (this.added[q]) this.union(p, q);
      }
    }
  }

  private union(a: number, b: number): void {
    a = this.find(a); b = this.find(b);
    if (a === b) return;
    const e = this.ext;
    e[4 * a] = Math.min(e[4 * a], e[4 * b]);
    e[4 * a + 1] = Math.min(e[4 * a + 1], e[4 * b + 1]);
    e[4 * a + 2] = Math.max(e[4 * a + 2], e[4 * b + 2]);
    e[4 * a + 3] = Math.max(e[4 * a + 3], e[4 * b + 3]);
    this.edge[a] |= this.edge[b];
    this.parent[b] = a;
    this.roots.delete(b);
  }
}

/**
 * For each integer threshold in `thresholds` (0..255), the best IoU with the box gt[off..off+4] of any
 * box contourBoxes(q > thr) gives (outer borders and, with `holes`, hole borders).
 */
export function bestBoxIoUs(q: Uint8Array, h: number, w: number, thresholds: readonly number[], gt: ArrayLike<number>, off: number,
  holes = true): Map<number, number> {
  const n = h * w;
  const byValue: number[][] = Array.from({ length: 256 }, () => []);
  for (let p = 0; p < n; p++) byValue[q[p]].push(p);
  const distinct = [...new Set(thresholds)].sort((a, b) => b - a);
  const best = new Map<number, number>();
  const empty = new Set<number>();
  // foreground, thresholds descending: add the pixels with q > thr
  const fg = new Components(h, w);
  let v = 255;
  for (const thr of distinct) {
    for (; v > thr; v--) for (const p of byValue[v]) fg.add(p, true);
    if (fg.roots.size === 0) { best.set(thr, iouAgainst(0, 0, 0, 0, gt, off)); empty.add(thr); continue; }
    let b = 0;
    for (const r of fg.roots) {
      const e = fg.ext;
      b = Math.max(b, iouAgainst(e[4 * r], e[4 * r + 1], Math.min(e[4 * r + 2] + 1, w - 1), Math.min(e[4 * r + 3] + 1, h - 1), gt, off));
    }
    best.set(thr, b);
  }
  if (!holes) return best;
  // background, thresholds ascending: add the pixels with q <= thr; components off the edge are holes
  const bg = new Components(h, w);
  v = 0;
  for (const thr of distinct.slice().reverse()) {
    for (; v <= thr; v++) for (const p of byValue[v]) bg.add(p, false);
    if (empty.has(thr)) continue;
    let b = best.get(thr)!;
    for (const r of bg.roots) {
      if (bg.edge[r]) continue;
      const e = bg.ext;
      b = Math.max(b, iouAgainst(e[4 * r] - 1, e[4 * r + 1] - 1, Math.min(e[4 * r + 2] + 2, w - 1), Math.min(e[4 * r + 3] + 2, h - 1), gt, off));
    }
    best.set(thr, b);
  }
  return best;
}
