// torchvision-style ImageFolder: root/<class>/.../<image>.{png,jpg,jpeg} (case-insensitive).
//
// Classes are the immediate subfolders of root (hidden ones, starting with '.', are skipped),
// sorted by code-unit order like Python's sorted(); the class index is the position in that
// order. Images are found recursively under each class folder, sorted by path. Each image is
// decoded with sharp, its alpha channel dropped (like PIL's convert('RGB')), converted to
// sRGB (3 channels) or greyscale (1 channel), and resized by stretching (fit 'fill', like
// torchvision's Resize((h, w))) with bilinear interpolation to the target size. Mean/std are
// computed from the loaded pixels.
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { computeMeanStd, sharedBytes, type ImageDataset } from './dataset.js';
import { annotatedClasses, attachMasks, maskedLayout } from './masks.js';

export interface ImageFolderOptions {
  /** Target size: a number for square images or [height, width]. Default: the size of the first image. */
  size?: number | [number, number];
  /** Decode to 1 channel instead of 3. */
  grayscale?: boolean;
  /** Images decoded at once (default min(8, CPU count)). */
  concurrency?: number;
  /** Dataset name (default 'imagefolder'). */
  name?: string;
  /** The class list to label by (e.g. the training split's): class folders are mapped to it by name,
   *  and a folder whose name is not in it is an error. Default: the class folders found here. */
  classNames?: string[];
}

const IMAGE_EXT = /\.(png|jpe?g)$/i;
/** Largest image decoded (pixels; a 24-megapixel photo is 2^24.5): a corrupt header cannot make a
 *  decode allocate gigabytes. sharp's own default is 2^28. */
export const MAX_IMAGE_PIXELS = 1 << 26;
/** Largest size taken from the first image when no size is given (4096 x 4096): every image is
 *  stored at that size, so a corrupt first header must not size the whole dataset. */
export const MAX_DEFAULT_PIXELS = 1 << 24;

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Images under dir, recursively, sorted by path. Symlinked folders are followed once each (a link
 *  back to an ancestor would otherwise recurse without end). */
function listImages(dir: string, out: string[], seen = new Set<string>()): void {
  const real = realpathSync(dir);
  if (seen.has(real)) return;
  seen.add(real);
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => byCodeUnit(a.name, b.name));
  for (const e of entries) {
    const p = join(dir, e.name);
    let isDir = e.isDirectory(), isFile = e.isFile();
    if (e.isSymbolicLink()) { const st = statSync(p, { throwIfNoEntry: false }); isDir = !!st?.isDirectory(); isFile = !!st?.isFile(); }
    if (isDir) listImages(p, out, seen);
    else if (isFile && IMAGE_EXT.test(e.name)) out.push(p);
  }
}

/** The class folders of root (non-hidden subfolders, symlinks to folders included), sorted. */
export function listClassFolders(root: string): string[] {
  if (!existsSync(root)) throw new Error(`imagefolder: folder ${root} does not exist (--data-root)`);
  if (!statSync(root).isDirectory()) throw new Error(`imagefolder: ${root} is not a folder (--data-root)`);
  const classNames = readdirSync(root, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.') && (e.isDirectory() || (e.isSymbolicLink() && statSync(join(root, e.name), { throwIfNoEntry: false })?.isDirectory())))
    .map((e) => e.name)
    .sort(byCodeUnit);
  if (classNames.length === 0) throw new Error(`imagefolder: no class subfolders in ${root} (expected one folder per class; --data-root)`);
  return classNames;
}

/** The first image of an image folder tree in load order (the default size comes from it). */
export function firstImage(root: string): string | undefined {
  for (const c of listClassFolders(root)) {
    const list: string[] = [];
    listImages(join(root, c), list);
    if (list.length) return list[0];
  }
  return undefined;
}

/**
 * Lists the class names (sorted) and the image files with their labels, without decoding. With
 * `classNames` (e.g. the training split's), folders are labelled by their position in that list and
 * every folder must be in it. A class folder without images is an error (it would be a class that
 * never occurs).
 */
export function scanImageFolder(root: string, classNames?: string[]): { classNames: string[]; files: string[]; labels: number[] } {
  const found = listClassFolders(root);
  const names = classNames ?? found;
  const index = new Map(names.map((c, k) => [c, k]));
  const extra = found.filter((c) => !index.has(c));
  if (extra.length) {
    throw new Error(`imagefolder: ${root} has class folders that the training split does not have: ${extra.join(', ')} (the classes of test/ must be a subset of those of train/)`);
  }
  const files: string[] = [];
  const labels: number[] = [];
  const empty: string[] = [];
  for (const c of found) {
    const list: string[] = [];
    listImages(join(root, c), list);
    if (list.length === 0) empty.push(join(root, c));
    for (const f of list) { files.push(f); labels.push(index.get(c)!); }
  }
  if (files.length === 0) throw new Error(`imagefolder: no .png/.jpg/.jpeg images in any of the ${found.length} class folders of ${root}`);
  if (empty.length) throw new Error(`imagefolder: class folder${empty.length > 1 ? 's' : ''} ${empty.join(', ')} hold${empty.length > 1 ? '' : 's'} no .png/.jpg/.jpeg images (remove ${empty.length > 1 ? 'them' : 'it'} or add images)`);
  return { classNames: [...names], files, labels };
}

async function decode(file: string, channels: 1 | 3, h: number, w: number, decoded?: { height: number; width: number }): Promise<Buffer> {
  try {
    let img = sharp(file, { failOn: 'error', limitInputPixels: MAX_IMAGE_PIXELS }).removeAlpha();
    img = channels === 1 ? img.toColourspace('b-w') : img.toColourspace('srgb');
    let { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== channels) throw new Error(`decoded to ${info.channels} channels, expected ${channels}`);
    if (decoded) { decoded.height = info.height; decoded.width = info.width; }
    if (info.width !== w || info.height !== h) {
      // Resize only when needed, so images already at the target size keep their exact pixels.
      ({ data, info } = await sharp(data, { raw: { width: info.width, height: info.height, channels } })
        .resize(w, h, { fit: 'fill', kernel: 'linear' })
        .toColourspace(channels === 1 ? 'b-w' : 'srgb')
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true }));
      if (info.channels !== channels || info.width !== w || info.height !== h) {
        throw new Error(`resize gave ${info.width}x${info.height}x${info.channels}, expected ${w}x${h}x${channels}`);
      }
    }
    return data;
  } catch (e) {
    throw new Error(`imagefolder: cannot decode image ${file}: ${(e as Error).message}`);
  }
}

/** [height, width] of an image from its header. EXIF orientation is not applied, so the stored
 *  dimensions are the decoded ones. */
export async function imageSizeOf(file: string): Promise<[number, number]> {
  try {
    const meta = await sharp(file, { limitInputPixels: MAX_IMAGE_PIXELS }).metadata();
    if (!meta.width || !meta.height) throw new Error('no dimensions in the image header');
    if (meta.width * meta.height > MAX_DEFAULT_PIXELS) {
      throw new Error(`${meta.width}x${meta.height} is too large to size the whole dataset by (more than ${MAX_DEFAULT_PIXELS} pixels); pass a size (--image-size)`);
    }
    return [meta.height, meta.width];
  } catch (e) {
    throw new Error(`imagefolder: cannot decode image ${file}: ${(e as Error).message}`);
  }
}

/** Loads an image folder into memory (HWC from sharp is transposed to CHW). A folder in the masked
 *  layout (images/ beside masks/ or annotations.json, see masks.ts) also gets masks and boxes. */
export async function loadImageFolder(root: string, opts: ImageFolderOptions = {}): Promise<ImageDataset> {
  const layout = maskedLayout(root);
  if (!layout) return (await loadPlain(root, opts)).ds;
  const { ds, files, sizes } = await loadPlain(layout.images, { ...opts, classNames: opts.classNames ?? annotatedClasses(layout) });
  return attachMasks(ds, layout, files, sizes, opts.concurrency);
}

async function loadPlain(root: string, opts: ImageFolderOptions): Promise<{ ds: ImageDataset; files: string[]; sizes: Int32Array }> {
  const { classNames, files, labels } = scanImageFolder(root, opts.classNames);
  const channels: 1 | 3 = opts.grayscale ? 1 : 3;
  let height: number, width: number;
  if (opts.size !== undefined) {
    [height, width] = typeof opts.size === 'number' ? [opts.size, opts.size] : opts.size;
    if (!Number.isInteger(height) || !Number.isInteger(width) || height <= 0 || width <= 0) {
      throw new Error(`imagefolder: size must be a positive integer or [height, width], got ${JSON.stringify(opts.size)} (--image-size)`);
    }
  } else {
    [height, width] = await imageSizeOf(files[0]!);
  }
  const concurrency = opts.concurrency ?? Math.min(8, availableParallelism());
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`imagefolder: concurrency must be a positive integer, got ${concurrency}`);
  const per = channels * height * width;
  const hw = height * width;
  let images: Uint8Array;
  try {
    images = sharedBytes(files.length * per);
  } catch (e) {
    throw new Error(`imagefolder: ${files.length} images of ${channels}x${height}x${width} in ${root} do not fit in memory (${(e as Error).message}); pass a smaller size (--image-size)`);
  }
  const sizes = new Int32Array(2 * files.length);
  let next = 0;
  let failed: Error | undefined;
  const worker = async () => {
    while (failed === undefined && next < files.length) {
      const i = next++;
      try {
        const decoded = { height: 0, width: 0 };
        const data = await decode(files[i]!, channels, height, width, decoded);
        sizes[2 * i] = decoded.height; sizes[2 * i + 1] = decoded.width;
        const base = i * per;
        for (let c = 0; c < channels; c++) {
          const dst = base + c * hw;
          for (let k = 0, s = c; k < hw; k++, s += channels) images[dst + k] = data[s]!;
        }
      } catch (e) {
        failed ??= e as Error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  if (failed) throw failed;
  const { mean, std } = computeMeanStd(images, files.length, channels, height, width);
  const ds: ImageDataset = {
    name: opts.name ?? 'imagefolder', numClasses: classNames.length, classNames,
    channels, height, width, length: files.length, images, labels: Int32Array.from(labels), mean, std,
  };
  return { ds, files, sizes };
}

