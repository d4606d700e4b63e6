// The nearest-neighbour searches of the MI estimator (see ../mutual_info.ts), on one sorted column:
// radix sort, k-th neighbour distances (sklearn's KD-tree and brute-force paths) and radius counts.

// ------------------------------------------------------------------------------------------------------
// Sorting a column (LSD radix sort on the IEEE bits, 3 passes of 11 bits per 32-bit word)

const f64v = new Float64Array(1);
const u32v = new Uint32Array(f64v.buffer);

class ColumnSorter {
  private keyHi: Uint32Array;
  private keyLo: Uint32Array;
  private idxA: Int32Array;
  private idxB: Int32Array;
  private count = new Int32Array(2048);
  constructor(private n: number) {
    this.keyHi = new Uint32Array(n);
    this.keyLo = new Uint32Array(n);
    this.idxA = new Int32Array(n);
    this.idxB = new Int32Array(n);
  }

  /** Fills `order` (sorted position -> sample) and `sorted` (values ascending). */
  sort(col: Float64Array, off: number, order: Int32Array, sorted: Float64Array): void {
    const n = this.n, hi = this.keyHi, lo = this.keyLo;
    for (let i = 0; i < n; i++) {
      f64v[0] = col[off + i];
      let h = u32v[1], l = u32v[0];
      if (h & 0x80000000) {
        h = ~h >>> 0;
        l = ~l >>> 0;
      } else {
        h = (h | 0x80000000) >>> 0;
      }
      hi[i] = h;
      lo[i] = l;
    }
    let src = this.idxA, dst = this.idxB;
    for (let i = 0; i < n; i++) src[i] = i;
    const count = this.count;
    for (let pass = 0; pass < 6; pass++) {
      const key = pass < 3 ? lo : hi;
      const shift = (pass % 3) * 11;
      const width = pass % 3 === 2 ? 10 : 11;
      const mask = (1 << width) - 1;
      count.fill(0);
      for (let i = 0; i < n; i++) count[(key[src[i]] >>> shift) & mask]++;
      let sum = 0;
      for (let b = 0; b <= mask; b++) {
        const c = count[b];
        count[b] = sum;
        sum += c;
      }
      for (let i = 0; i < n; i++) {
        const s = src[i];
        dst[count[(key[s] >>> shift) & mask]++] = s;
      }
      const t = src;
      src = dst;
      dst = t;
    }
    for (let p = 0; p < n; p++) {
      const s = src[p];
      order[p] = s;
      sorted[p] = col[off + s];
    }
  }
}

/** Work buffers for one column, reused across targets and features. */
export class Workspace {
  order: Int32Array; // sorted position -> sample
  sorted: Float64Array; // column values ascending
  mVals: Float64Array; // the same restricted to samples whose label occurs more than once
  mOrig: Int32Array;
  radius: Float64Array; // by position in mVals
  classVals: Float64Array;
  classPos: Int32Array;
  classStart: Int32Array;
  cursor: Int32Array;
  mCount: Int32Array; // by sample
  psiM: Float64Array;
  brute: Float64Array;
  sorter: ColumnSorter;
  sortedLab: Int32Array; // labels in sorted order (one-vs-rest)
  sortedLabFor: Int32Array | null = null;
  constructor(public n: number, maxCodes: number) {
    this.sortedLab = new Int32Array(n);
    this.order = new Int32Array(n);
    this.sorted = new Float64Array(n);
    this.mVals = new Float64Array(n);
    this.mOrig = new Int32Array(n);
    this.radius = new Float64Array(n);
    this.classVals = new Float64Array(n);
    this.classPos = new Int32Array(n);
    this.classStart = new Int32Array(maxCodes + 1);
    this.cursor = new Int32Array(maxCodes + 1);
    this.mCount = new Int32Array(n);
    this.psiM = new Float64Array(n);
    this.brute = new Float64Array(n);
    this.sorter = new ColumnSorter(n);
  }
  ensureCodes(numCodes: number): void {
    if (this.classStart.length < numCodes + 1) {
      this.classStart = new Int32Array(numCodes + 1);
      this.cursor = new Int32Array(numCodes + 1);
    }
  }
  sortColumn(cols: Float64Array, j: number, labels?: Int32Array): void {
    this.sorter.sort(cols, j * this.n, this.order, this.sorted);
    this.sortedLabFor = labels ?? null;
    if (labels) {
      const order = this.order, sl = this.sortedLab;
      for (let p = 0; p < this.n; p++) sl[p] = labels[order[p]];
    }
  }
}

/**
 * #{q : |mv[q] - mv[p]| < R} over the ascending run mv[0..M) (R > 0; pass Number.MIN_VALUE for "== 0"):
 * a short linear scan each way, galloping beyond 16 steps.
 */
export function countWithin(mv: Float64Array, M: number, p: number, R: number): number {
  const xi = mv[p];
  let h = p + 1;
  let lim = M < p + 17 ? M : p + 17;
  while (h < lim && mv[h] - xi < R) h++;
  if (h === lim && h < M) {
    let lo = h - 1, step = 16, hi: number;
    for (;;) {
      const x = lo + step;
      if (x >= M) { hi = M; break; }
      if (mv[x] - xi < R) { lo = x; step *= 2; } else { hi = x; break; }
    }
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (mv[mid] - xi < R) lo = mid; else hi = mid;
    }
    h = lo + 1;
  }
  let g = p - 1;
  lim = p - 17 > -1 ? p - 17 : -1;
  while (g > lim && xi - mv[g] < R) g--;
  if (g === lim && g >= 0) {
    let hi = g + 1, step = 16, lo: number;
    for (;;) {
      const x = hi - step;
      if (x < 0) { lo = -1; break; }
      if (xi - mv[x] < R) { hi = x; step *= 2; } else { lo = x; break; }
    }
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (xi - mv[mid] < R) hi = mid; else lo = mid;
    }
    g = hi - 1;
  }
  return h - g - 1;
}

/** sklearn's r = nextafter(R, 0) and the test d <= r, as a strict bound: d < R, or d == 0 when R == 0. */
export function strictBound(R: number): number {
  return R > 0 ? R : Number.MIN_VALUE;
}

/** k-th neighbour distance (KD-tree path) of each member of an ascending run vals[b .. b+cnt), into out[pos[..]]. */
export function windowRadii(vals: Float64Array, b: number, cnt: number, k: number, out: Float64Array, pos: Int32Array): void {
  // the k nearest others of a point form, with it, a run of k + 1 consecutive values, so the k-th distance
  // is min over such runs of the larger end distance (rounded differences are monotone in position, so
  // this is the k-th order statistic exactly)
  const last = cnt - 1 - k;
  for (let p = 0; p < cnt; p++) {
    const xp = vals[b + p];
    let d = Infinity;
    const a1 = p < last ? p : last;
    for (let a = p > k ? p - k : 0; a <= a1; a++) {
      const sl = xp - vals[b + a], sr = vals[b + a + k] - xp;
      const span = sl > sr ? sl : sr;
      if (span < d) d = span;
    }
    out[pos[b + p]] = d;
  }
}

/** k-th neighbour distance as sklearn's brute-force ArgKmin computes it, for each member of a run. */
export function bruteRadii(vals: Float64Array, b: number, cnt: number, k: number, out: Float64Array, pos: Int32Array, tmp: Float64Array): void {
  // sqrt(max(0, (x_i^2 + (-2 (x_i x_j))) + x_j^2)), the (k+1)-th smallest over the label including the
  // sample itself (exactly 0), which is what remains last once kneighbors() drops the self match
  for (let p = 0; p < cnt; p++) {
    const xi = vals[b + p];
    const si = xi * xi;
    for (let q = 0; q < cnt; q++) {
      const xj = vals[b + q];
      const d = si + -2 * (xi * xj) + xj * xj;
      tmp[q] = d > 0 ? d : 0;
    }
    const view = tmp.subarray(0, cnt);
    view.sort();
    out[pos[b + p]] = Math.sqrt(view[k]);
  }
}
