// Image folders with masks (issue 10, item 1): the masked layout, its reader and its writer.
//
//   DIR/images/<class>/.../<name>.{png,jpg,jpeg}   the images, as in a plain image folder
//   DIR/masks/<class>/.../<name>.png               one mask per image, same relative path with .png
//                                                  (nonzero = object), same size as the image
//   DIR/annotations.json                           optional: {"classes": [folder names in label
//                                                  order], "boxes": {"<class>/.../<name>.<ext>":
//                                                  [x0, y0, x1, y1]}} (pixels, x1/y1 inclusive)
// DIR is an image folder's split folder (ROOT/train, ROOT/test) or ROOT itself. A folder is in this
// layout when it has an images/ subfolder and a masks/ subfolder or annotations.json. Without boxes
// in annotations.json the boxes are the masks' tight boxes. A missing mask, a mask of another size
// than its image, an empty mask (when boxes come from masks) and a missing or bad box are errors that
// name the file. When the images are resized (--image-size), masks are resized by nearest neighbour
// and boxes scaled to cover the same pixels.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '../util/atomic.js';
import { maskBox, sharedBytes, type ImageDataset } from './dataset.js';

export interface MaskedLayout {
  dir: string;
  images: string;
  /** Absent when only annotations.json is given (boxes without masks). */
  masks?: string;
  annotationsFile?: string;
  annotations?: { classes?: string[]; boxes?: Record<string, number[]> };
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
const isFile = (p: string) => existsSync(p) && statSync(p).isFile();

/** The masked layout of dir, or null when dir is a plain class-folder tree. */
export function maskedLayout(dir: string): MaskedLayout | null {
  const images = join(dir, 'images'), masks = join(dir, 'masks'), annotationsFile = join(dir, 'annotations.json');
  if (!isDir(images) || (!isDir(masks) && !isFile(annotationsFile))) return null;
  const layout: MaskedLayout = { dir, images };
  if (isDir(masks)) layout.masks = masks;
  if (isFile(annotationsFile)) {
    layout.annotationsFile = annotationsFile;
    let a: any;
    try {
      a = JSON.parse(readFileSync(annotationsFile, 'utf8'));
    } catch (e) {
      throw new Error(`imagefolder: cannot read ${annotationsFile}: ${(e as Error).message}`);
    }
    if (a === null || typeof a !== 'object' || Array.isArray(a)) throw new Error(`imagefolder: ${annotationsFile} must hold a JSON object`);
    if (a.classes !== undefined && !(Array.isArray(a.classes) && a.classes.length > 0 && a.classes.every((c: unknown) => typeof c === 'string'))) {
      throw new Error(`imagefolder: ${annotationsFile}: "classes" must be a non-empty list of class folder names`);
    }
    if (a.boxes !== undefined && (a.boxes === null || typeof a.boxes !== 'object' || Array.isArray(a.boxes))) {
      throw new Error(`imagefolder: ${annotationsFile}: "boxes" must be an object mapping image paths (relative to images/) to [x0, y0, x1, y1]`);
    }
    layout.annotations = { classes: a.classes, boxes: a.boxes };
  }
  return layout;
}


/** The class order given by annotations.json, if any. */
export function annotatedClasses(layout: MaskedLayout | null): string[] | undefined {
  return layout?.annotations?.classes ? [...layout.annotations.classes] : undefined;
}

const posix = (rel: string) => rel.split(sep).join('/');

async function decodeMask(file: string, image: string, h: number, w: number): Promise<Uint8Array> {
  if (!isFile(file)) throw new Error(`imagefolder: mask ${file} of image ${image} is missing (masks/ must mirror images/, one .png per image)`);
  let data: Buffer, info: { width: number; height: number; channels: number };
  try {
    ({ data, info } = await sharp(file, { failOn: 'error' }).removeAlpha().toColourspace('b-w').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true }));
  } catch (e) {
    throw new Error(`imagefolder: cannot decode mask ${file}: ${(e as Error).message}`);
  }
  if (info.height !== h || info.width !== w) throw new Error(`imagefolder: mask ${file} is ${info.width}x${info.height} but its image ${image} is ${w}x${h}`);
  if (info.channels !== 1) throw new Error(`imagefolder: mask ${file} decoded to ${info.channels} channels, expected 1`);
  return data;
}

/** Nearest-neighbour resize of a 0/1 plane (torch's 'nearest': source index floor(i * in / out)). */
function resizeNearest(src: Uint8Array, h: number, w: number, oh: number, ow: number, dst: Uint8Array, off: number): void {
  for (let y = 0; y < oh; y++) {
    const sy = Math.min(h - 1, Math.floor((y * h) / oh));
    for (let x = 0; x < ow; x++) dst[off + y * ow + x] = src[sy * w + Math.min(w - 1, Math.floor((x * w) / ow))] ? 1 : 0;
  }
}

/** Scales an inclusive box from an h x w image to oh x ow, covering the same pixels. */
export function scaleBox(b: readonly number[], h: number, w: number, oh: number, ow: number): [number, number, number, number] {
  return [
    Math.floor((b[0]! * ow) / w), Math.floor((b[1]! * oh) / h),
    Math.min(ow - 1, Math.ceil(((b[2]! + 1) * ow) / w) - 1), Math.min(oh - 1, Math.ceil(((b[3]! + 1) * oh) / h) - 1),
  ];
}

/** Adds masks (from masks/) and boxes (from annotations.json, else from the masks) to a loaded
 *  image folder. files: the image files in load order; sizes: their decoded [height, width]. */
export async function attachMasks(ds: ImageDataset, layout: MaskedLayout, files: string[], sizes: Int32Array, concurrency = 8): Promise<ImageDataset> {
  const n = ds.length, H = ds.height, W = ds.width, hw = H * W;
  const boxesGiven = layout.annotations?.boxes;
  let masks: Uint8Array | undefined;
  if (layout.masks) {
    const out = sharedBytes(n * hw);
    let next = 0, failed: Error | undefined;
    const worker = async () => {
      while (failed === undefined && next < n) {
        const i = next++;
        try {
          const rel = relative(layout.images, files[i]!);
          const file = join(layout.masks!, rel.replace(/\.[^./\\]+$/, '') + '.png');
          const h = sizes[2 * i]!, w = sizes[2 * i + 1]!;
          const m = await decodeMask(file, files[i]!, h, w);
          if (h === H && w === W) for (let k = 0; k < hw; k++) out[i * hw + k] = m[k] ? 1 : 0;
          else resizeNearest(m, h, w, H, W, out, i * hw);
          if (!boxesGiven && !maskBox(out, H, W, i * hw)) throw new Error(`imagefolder: mask ${file} is empty (all zero), so it gives no box; add boxes to annotations.json or fix the mask`);
        } catch (e) {
          failed ??= e as Error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(Math.max(1, concurrency), n) }, worker));
    if (failed) throw failed;
    masks = out;
  }
  const boxes = new Int32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const h = sizes[2 * i]!, w = sizes[2 * i + 1]!;
    if (boxesGiven) {
      const key = posix(relative(layout.images, files[i]!));
      const b = boxesGiven[key];
      const where = `imagefolder: ${layout.annotationsFile}: box of ${key}`;
      if (b === undefined) throw new Error(`${where} is missing (with "boxes", every image needs one)`);
      if (!(Array.isArray(b) && b.length === 4 && b.every((v) => Number.isInteger(v)))) throw new Error(`${where} must be 4 integers [x0, y0, x1, y1], got ${JSON.stringify(b)}`);
      if (!(b[0]! >= 0 && b[1]! >= 0 && b[0]! <= b[2]! && b[1]! <= b[3]! && b[2]! < w && b[3]! < h)) throw new Error(`${where} ${JSON.stringify(b)} is not inside the ${w}x${h} image (x1, y1 inclusive)`);
      boxes.set(h === H && w === W ? b : scaleBox(b, h, w, H, W), 4 * i);
    } else if (masks) {
      boxes.set(maskBox(masks, H, W, i * hw)!, 4 * i);
    }
  }
  const out: ImageDataset = { ...ds, boxes };
  if (masks) out.masks = masks;
  return out;
}

/** A class name as a folder name ('/' and '\' become '_'). */
export function classFolderName(name: string): string {
  const s = name.replace(/[/\\]/g, '_');
  return s === '' || s === '.' || s === '..' ? `_${s}` : s;
}

/**
 * Writes a dataset with masks in the masked layout: DIR/images/<class>/<index>.png,
 * DIR/masks/<class>/<index>.png (0 or 255) and DIR/annotations.json (class folders in label order,
 * boxes, and `extra`, e.g. the generator's settings). Index names are zero-padded so that the
 * loader's path order is index order within a class. Every file is written atomically.
 */
export async function writeMaskedFolder(ds: ImageDataset, dir: string, extra: Record<string, unknown> = {}, onProgress?: (done: number, total: number) => void): Promise<void> {
  if (!ds.masks) throw new Error(`writeMaskedFolder: dataset '${ds.name}' has no masks`);
  const n = ds.length, C = ds.channels, H = ds.height, W = ds.width, hw = H * W;
  const folders = ds.classNames.map(classFolderName);
  if (new Set(folders).size !== folders.length) throw new Error(`writeMaskedFolder: class names ${JSON.stringify(ds.classNames)} do not give distinct folder names`);
  const pad = Math.max(5, String(Math.max(0, n - 1)).length);
  // Folders only for the classes present (the loader refuses empty class folders); annotations.json
  // lists every class, so labels keep their indices.
  for (const l of new Set(ds.labels)) for (const sub of ['images', 'masks']) mkdirSync(join(dir, sub, folders[l]!), { recursive: true });
  const boxes: Record<string, number[]> = {};
  const encode = async (i: number) => {
    const hwc = Buffer.alloc(C * hw);
    for (let c = 0; c < C; c++) for (let k = 0; k < hw; k++) hwc[k * C + c] = ds.images[(i * C + c) * hw + k]!;
    const mask = Buffer.alloc(hw);
    for (let k = 0; k < hw; k++) mask[k] = ds.masks![i * hw + k] ? 255 : 0;
    return Promise.all([
      sharp(hwc, { raw: { width: W, height: H, channels: C as 1 | 3 } }).png().toBuffer(),
      sharp(mask, { raw: { width: W, height: H, channels: 1 } }).png().toBuffer(),
    ]);
  };
  // PNG encoding runs on libuv's threads, a window of images at a time; the writes stay in order.
  const WINDOW = 16;
  for (let start = 0; start < n; start += WINDOW) {
    const ids = Array.from({ length: Math.min(WINDOW, n - start) }, (_, k) => start + k);
    const pngs = await Promise.all(ids.map(encode));
    ids.forEach((i, k) => {
      const rel = `${folders[ds.labels[i]!]}/${String(i).padStart(pad, '0')}.png`;
      writeFileAtomic(join(dir, 'images', rel), pngs[k]![0]);
      writeFileAtomic(join(dir, 'masks', rel), pngs[k]![1]);
      const b = ds.boxes ? Array.from(ds.boxes.subarray(4 * i, 4 * i + 4)) : maskBox(ds.masks!, H, W, i * hw);
      if (b) boxes[rel] = b;
    });
    onProgress?.(start + ids.length, n);
  }
  const annotations = { ...extra, classes: folders, class_names: ds.classNames, box_convention: '[x0, y0, x1, y1] in pixels, x1 and y1 inclusive', boxes };
  writeFileAtomic(join(dir, 'annotations.json'), JSON.stringify(annotations) + '\n');
}
