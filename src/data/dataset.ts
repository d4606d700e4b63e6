// The in-memory image dataset shared by every loader in src/data/.
//
// Images are stored as raw uint8 pixels, CHW per image, images back to back
// (N*C*H*W bytes). Normalization statistics are per channel in [0,1] units, i.e.
// a pixel v is normalized as (v/255 - mean[c]) / std[c].

export interface ImageDataset {
  /** Short dataset name, e.g. 'fashion-mnist', 'cifar10', 'imagefolder'. */
  name: string;
  numClasses: number;
  /** classNames.length === numClasses. */
  classNames: string[];
  channels: number;
  height: number;
  width: number;
  /** Number of images. */
  length: number;
  /** length*channels*height*width uint8 pixels, CHW per image. */
  images: Uint8Array;
  /** length labels in [0, numClasses). */
  labels: Int32Array;
  /** Per-channel mean in [0,1] units (length === channels). */
  mean: number[];
  /** Per-channel standard deviation in [0,1] units (length === channels), all > 0. */
  std: number[];
  /** Optional object masks: length*height*width uint8, 1 = object, 0 = background (datasets with
   *  localization annotations: cluttered MNIST-likes, image folders with masks/, VOC Part). */
  masks?: Uint8Array;
  /** Optional object boxes: length*4 int32, [x0, y0, x1, y1] per image in pixels, x1/y1 inclusive
   *  (wsolevaluation's convention); with masks, the mask's tight box unless given separately. */
  boxes?: Int32Array;
}

/** Tight box [x0, y0, x1, y1] (inclusive) of the nonzero pixels of an h x w mask, or null if empty. */
export function maskBox(mask: ArrayLike<number>, height: number, width: number, offset = 0): [number, number, number, number] | null {
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    const row = offset + y * width;
    for (let x = 0; x < width; x++) {
      if (mask[row + x]) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        y1 = y;
      }
    }
  }
  return x1 < 0 ? null : [x0, y0, x1, y1];
}

/** Bytes per image (C*H*W). */
export function imageSize(ds: Pick<ImageDataset, 'channels' | 'height' | 'width'>): number {
  return ds.channels * ds.height * ds.width;
}

/** Per-channel mean and (population) standard deviation of the pixels, in [0,1] units.
 *  A channel with zero spread gets std 1 so that normalization never divides by zero. */
export function computeMeanStd(images: Uint8Array, length: number, channels: number, height: number, width: number): { mean: number[]; std: number[] } {
  const hw = height * width;
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    // Histogram per channel: exact and fast for uint8 data.
    const hist = new Float64Array(256);
    for (let n = 0; n < length; n++) {
      const base = (n * channels + c) * hw;
      for (let k = 0; k < hw; k++) hist[images[base + k]!]!++;
    }
    let cnt = 0, s = 0;
    for (let v = 0; v < 256; v++) { cnt += hist[v]!; s += hist[v]! * v; }
    const m = cnt > 0 ? s / cnt : 0;
    let ss = 0;
    for (let v = 0; v < 256; v++) ss += hist[v]! * (v - m) * (v - m);
    const sd = cnt > 0 ? Math.sqrt(ss / cnt) : 0;
    mean.push(m / 255);
    std.push(sd > 0 ? sd / 255 : 1);
  }
  return { mean, std };
}

/** Throws a descriptive Error if the dataset's fields are inconsistent. */
export function checkDataset(ds: ImageDataset): void {
  const where = `dataset '${ds.name}'`;
  for (const [k, v] of [['numClasses', ds.numClasses], ['channels', ds.channels], ['height', ds.height], ['width', ds.width], ['length', ds.length]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`${where}: ${k} must be a non-negative integer, got ${v}`);
  }
  if (ds.classNames.length !== ds.numClasses) throw new Error(`${where}: ${ds.classNames.length} class names for ${ds.numClasses} classes`);
  if (ds.images.length !== ds.length * imageSize(ds)) throw new Error(`${where}: images hold ${ds.images.length} bytes, expected ${ds.length}*${ds.channels}*${ds.height}*${ds.width} = ${ds.length * imageSize(ds)}`);
  if (ds.labels.length !== ds.length) throw new Error(`${where}: ${ds.labels.length} labels for ${ds.length} images`);
  if (ds.mean.length !== ds.channels || ds.std.length !== ds.channels) throw new Error(`${where}: mean/std must have ${ds.channels} entries (got ${ds.mean.length}/${ds.std.length})`);
  for (const s of ds.std) if (!(s > 0)) throw new Error(`${where}: std entries must be > 0, got ${s}`);
  if (ds.masks !== undefined && ds.masks.length !== ds.length * ds.height * ds.width) throw new Error(`${where}: masks hold ${ds.masks.length} bytes, expected ${ds.length}*${ds.height}*${ds.width} = ${ds.length * ds.height * ds.width}`);
  if (ds.boxes !== undefined) {
    if (ds.boxes.length !== ds.length * 4) throw new Error(`${where}: boxes hold ${ds.boxes.length} numbers, expected ${ds.length}*4`);
    for (let i = 0; i < ds.length; i++) {
      const [x0, y0, x1, y1] = ds.boxes.subarray(4 * i, 4 * i + 4);
      if (!(x0! >= 0 && y0! >= 0 && x0! <= x1! && y0! <= y1! && x1! < ds.width && y1! < ds.height)) throw new Error(`${where}: box [${x0}, ${y0}, ${x1}, ${y1}] of sample ${i} is not inside the ${ds.width}x${ds.height} image (x1, y1 inclusive)`);
    }
  }
  for (let i = 0; i < ds.length; i++) {
    const l = ds.labels[i]!;
    if (l < 0 || l >= ds.numClasses) throw new Error(`${where}: label ${l} of sample ${i} is out of range [0, ${ds.numClasses})`);
  }
}

/** n zeroed bytes in a SharedArrayBuffer, so that loader worker threads can read the pixels
 *  without a copy (see workers.ts). Every dataset loader allocates its images with this. */
export function sharedBytes(n: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(n));
}

/** The same bytes in shared memory: `a` itself when it already is, else a copy. */
export function toShared(a: Uint8Array): Uint8Array {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const s = sharedBytes(a.length);
  s.set(a);
  return s;
}
