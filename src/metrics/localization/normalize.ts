// wsolevaluation's normalize_scoremap and 8-bit quantization, in float32 as NumPy computes them.

/**
 * Min-max normalization of one map in float32 (`cam -= cam.min(); cam /= cam.max()`); a constant map
 * becomes zeros. (wsolevaluation also turns a map with NaN into zeros; here NaN maps are refused earlier.)
 */
export function minMaxNormalize(map: Float32Array): Float32Array {
  let mn = Infinity, mx = -Infinity;
  for (const v of map) { if (v < mn) mn = v; if (v > mx) mx = v; }
  const out = new Float32Array(map.length);
  if (!(mn < mx)) return out;
  let m2 = -Infinity;
  for (let i = 0; i < map.length; i++) { out[i] = map[i] - mn; if (out[i] > m2) m2 = out[i]; }
  for (let i = 0; i < map.length; i++) out[i] = Math.fround(out[i] / m2);
  return out;
}

/** `(scoremap * 255).astype(np.uint8)` for a normalized float32 map (float32 product, truncation). */
export function quantize255(map: Float32Array): Uint8Array {
  const q = new Uint8Array(map.length);
  for (let i = 0; i < map.length; i++) q[i] = Math.trunc(Math.fround(map[i] * 255));
  return q;
}

/** wsolevaluation's thresholds np.arange(0, 1, step) for step 0.01: i * 0.01, i = 0..99. */
export function camThresholds(count = 100, step = 0.01): number[] {
  return Array.from({ length: count }, (_, i) => i * step);
}
