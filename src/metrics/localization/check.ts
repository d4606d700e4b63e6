// Input checks shared by the localization metrics. Every error names the argument it is about.

/** [N, H, W] (or [N, F, H, W]) shape of a batch of maps or masks. */
export type MapShape = readonly number[];

const size = (shape: MapShape): number => shape.reduce((a, b) => a * b, 1);

export function checkShape(name: string, shape: MapShape, rank: number): void {
  if (shape.length !== rank || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`${name}: expected a shape of ${rank} positive integers, got [${shape.join(', ')}]`);
  }
}

/** Checks a float map batch: length matches the shape, no NaN or infinity. */
export function checkMaps(name: string, maps: Float32Array, shape: MapShape): void {
  if (!(maps instanceof Float32Array)) throw new Error(`${name}: expected a Float32Array`);
  if (maps.length !== size(shape)) throw new Error(`${name}: ${maps.length} values do not match the shape [${shape.join(', ')}]`);
  for (let i = 0; i < maps.length; i++) {
    if (!Number.isFinite(maps[i])) throw new Error(`${name}: value ${maps[i]} at flat index ${i} (maps must be finite)`);
  }
}

/** Checks a binary mask batch [N, H, W]: Uint8Array of 0/1. */
export function checkMasks(name: string, masks: Uint8Array, shape: MapShape): void {
  if (!(masks instanceof Uint8Array)) throw new Error(`${name}: expected a Uint8Array`);
  if (masks.length !== size(shape)) throw new Error(`${name}: ${masks.length} values do not match the shape [${shape.join(', ')}]`);
  for (let i = 0; i < masks.length; i++) {
    if (masks[i] > 1) throw new Error(`${name}: value ${masks[i]} at flat index ${i} (masks must be 0 or 1)`);
  }
}

/** Checks boxes [N, 4] as inclusive pixel coordinates x0, y0, x1, y1 inside an H x W image. */
export function checkBoxes(name: string, boxes: ArrayLike<number>, n: number, h: number, w: number): void {
  if (boxes.length !== n * 4) throw new Error(`${name}: ${boxes.length} values, expected ${n} x 4`);
  for (let i = 0; i < n; i++) {
    const [x0, y0, x1, y1] = [boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]];
    const ok = [x0, y0, x1, y1].every(Number.isInteger) && x0 >= 0 && y0 >= 0 && x0 <= x1 && y0 <= y1 && x1 < w && y1 < h;
    if (!ok) throw new Error(`${name}: box ${i} [${x0}, ${y0}, ${x1}, ${y1}] is not an integer x0 <= x1 < ${w}, y0 <= y1 < ${h} box`);
  }
}

/** Checks class labels [N] in [0, numClasses). */
export function checkLabels(name: string, labels: ArrayLike<number>, n: number, numClasses: number): void {
  if (!Number.isInteger(numClasses) || numClasses <= 0) throw new Error(`numClasses: expected a positive integer, got ${numClasses}`);
  if (labels.length !== n) throw new Error(`${name}: ${labels.length} labels for ${n} images`);
  for (let i = 0; i < n; i++) {
    const y = Number(labels[i]);
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) throw new Error(`${name}: label ${labels[i]} of image ${i} is not in [0, ${numClasses})`);
  }
}
