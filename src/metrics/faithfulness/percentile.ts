// numpy.percentile's default ('linear') method, value for value: the virtual index (n - 1) p / 100 in
// float64, the neighbours' difference in the values' own precision (float32 for float32 maps, as numpy
// subtracts two float32 values), then numpy's _lerp (from the upper neighbour when the fraction >= 0.5).
/** The p-th percentile of `sorted` (ascending); `f32` rounds the neighbours' difference to float32. */
export function numpyPercentile(sorted: ArrayLike<number>, p: number, f32 = true): number {
  const n = sorted.length;
  if (n === 0) throw new Error('percentile of no values');
  const v = (p / 100) * (n - 1);
  const lo = Math.floor(v), hi = Math.min(lo + 1, n - 1), t = v - lo;
  const a = sorted[lo]!, b = sorted[hi]!;
  const diff = f32 ? Math.fround(b - a) : b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}
