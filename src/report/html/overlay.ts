// Pixels of the filter gallery: an image with a filter's activation map overlaid, and strips of them.
// Pure arithmetic on arrays; PNG encoding is the caller's.

/** A jet-like colormap for v in [0, 1]: the filter gallery's overlays and localize's overlays.png. */
export function heatColor(v: number): [number, number, number] {
  const c = (x: number) => Math.round(255 * Math.min(1, Math.max(0, x)));
  return [c(1.5 - Math.abs(4 * v - 3)), c(1.5 - Math.abs(4 * v - 2)), c(1.5 - Math.abs(4 * v - 1))];
}

/**
 * RGB (interleaved, H*W*3) of a planar uint8 image (C = 1 or 3) with `map` (H*W) overlaid: the map
 * divided by `scale` (clamped to [0, 1]) through heatColor, blended with opacity 0.2 + 0.5 * v, so the
 * image shows where the filter is quiet.
 */
export function overlayRgb(image: Uint8Array, channels: number, height: number, width: number, map: ArrayLike<number>, scale: number): Uint8Array {
  const hw = height * width;
  if (image.length !== channels * hw) throw new RangeError(`overlayRgb: image has ${image.length} values, expected ${channels} x ${height} x ${width}`);
  if (map.length !== hw) throw new RangeError(`overlayRgb: map has ${map.length} values, expected ${height} x ${width}`);
  const out = new Uint8Array(hw * 3);
  for (let p = 0; p < hw; p++) {
    const v = scale > 0 ? Math.min(1, Math.max(0, map[p]! / scale)) : 0;
    const a = 0.2 + 0.5 * v;
    const heat = heatColor(v);
    for (let ch = 0; ch < 3; ch++) {
      const px = image[(channels >= 3 ? ch : 0) * hw + p]!;
      out[p * 3 + ch] = Math.round((1 - a) * px + a * heat[ch]!);
    }
  }
  return out;
}

/** Tiles of equal size (RGB, h*w*3) side by side with `gap` white pixels between: { rgb, width, height }. */
export function hstack(tiles: Uint8Array[], height: number, width: number, gap = 2): { rgb: Uint8Array; width: number; height: number } {
  const total = tiles.length * width + Math.max(0, tiles.length - 1) * gap;
  const rgb = new Uint8Array(total * height * 3).fill(255);
  tiles.forEach((t, i) => {
    if (t.length !== height * width * 3) throw new RangeError(`hstack: tile ${i} has ${t.length} values, expected ${height} x ${width} x 3`);
    const ox = i * (width + gap);
    for (let y = 0; y < height; y++) rgb.set(t.subarray(y * width * 3, (y + 1) * width * 3), (y * total + ox) * 3);
  });
  return { rgb, width: total, height };
}
