// Connected components of a binary image and their boxes, standing in for OpenCV's
// findContours(RETR_TREE) + boundingRect as wsolevaluation uses them.
//
// findContours (OpenCV >= 3.2 pads the image with zeros, so borders are handled) follows Suzuki & Abe:
// foreground is 8-connected, background 4-connected. RETR_TREE returns every border: the outer border of
// each 8-connected foreground component, whose bounding rectangle is the component's box, and the border
// of each hole (a 4-connected background component not touching the image edge), traced along the
// foreground pixels 4-adjacent to it, whose bounding rectangle is the hole's box grown by one pixel on
// every side. boundingRect gives (x, y, w, h) with w = x_max - x_min + 1; wsolevaluation turns that into
// [x, y, min(x + w, W - 1), min(y + h, H - 1)]. (cv2 is not installed here; the golden checks this
// module against scipy.ndimage.label with the same semantics.)

/** Inclusive pixel extents [xmin, ymin, xmax, ymax] of each component of `fg` (8-connected when eight). */
export function componentExtents(fg: Uint8Array, h: number, w: number, eight: boolean): number[][] {
  const label = new Int32Array(h * w).fill(-1);
  const stack: number[] = [];
  const out: number[][] = [];
  const dirs = eight ? [[-1, -1], [-1, 0], [-1, 1], [0, -1], [0, 1], [1, -1], [1, 0], [1, 1]] : [[-1, 0], [0, -1], [0, 1], [1, 0]];
  for (let s = 0; s < h * w; s++) {
    if (!fg[s] || label[s] >= 0) continue;
    const id = out.length;
    const e = [w, h, -1, -1];
    label[s] = id;
    stack.push(s);
    while (stack.length) {
      const p = stack.pop()!;
      const y = (p / w) | 0, x = p - y * w;
      if (x < e[0]) e[0] = x;
      if (y < e[1]) e[1] = y;
      if (x > e[2]) e[2] = x;
      if (y > e[3]) e[3] = y;
      for (const [dy, dx] of dirs) {
        const yy = y + dy, xx = x + dx;
        if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
        const q = yy * w + xx;
        if (fg[q] && label[q] < 0) { label[q] = id; stack.push(q); }
      }
    }
    out.push(e);
  }
  return out;
}

/**
 * wsolevaluation's boxes [x0, y0, x1, y1] for a binary image: one per outer border and (with `holes`,
 * the RETR_TREE default) one per hole border; [[0, 0, 0, 0]] when the image is empty.
 */
export function contourBoxes(fg: Uint8Array, h: number, w: number, holes = true): number[][] {
  const toBox = (x0: number, y0: number, x1: number, y1: number): number[] => [x0, y0, Math.min(x1 + 1, w - 1), Math.min(y1 + 1, h - 1)];
  const boxes = componentExtents(fg, h, w, true).map(([x0, y0, x1, y1]) => toBox(x0, y0, x1, y1));
  if (boxes.length === 0) return [[0, 0, 0, 0]];
  if (holes) {
    const bg = new Uint8Array(h * w);
    for (let i = 0; i < bg.length; i++) bg[i] = fg[i] ? 0 : 1;
    for (const [x0, y0, x1, y1] of componentExtents(bg, h, w, false)) {
      if (x0 === 0 || y0 === 0 || x1 === w - 1 || y1 === h - 1) continue; // touches the edge: not a hole
      boxes.push(toBox(x0 - 1, y0 - 1, x1 + 1, y1 + 1));
    }
  }
  return boxes;
}

/** wsolevaluation's calculate_multiple_iou for one pair: inclusive pixels (+1), 0 for a degenerate union. */
export function boxIoU(a: ArrayLike<number>, b: ArrayLike<number>, offB = 0): number {
  const ix = Math.max(0, Math.min(a[2], b[offB + 2]) - Math.max(a[0], b[offB]) + 1);
  const iy = Math.max(0, Math.min(a[3], b[offB + 3]) - Math.max(a[1], b[offB + 1]) + 1);
  const inter = ix * iy;
  const areaA = (a[2] - a[0] + 1) * (a[3] - a[1] + 1);
  const areaB = (b[offB + 2] - b[offB] + 1) * (b[offB + 3] - b[offB + 1] + 1);
  const den = areaA + areaB - inter;
  return den <= 0 ? 0 : inter / den;
}
