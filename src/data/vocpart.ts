// PASCAL VOC Part in the released code's processed layout (issue 10, item 1):
//   ROOT/processed/metadata/{train,val}.txt           VOC image ids of each split, one per line
//   ROOT/processed/{S}x{S}/obj_img/{class}-{objid}-{imageid}.jpg   object crops
//   ROOT/processed/{S}x{S}/obj_mask/<same stem>.mask.bmp           object masks (nonzero = object)
//   ROOT/processed/{S}x{S}/part_mask/<same stem>/{part}.bmp        part masks (loaded with parts: true)
// Classes bird, cat, dog, cow, horse, sheep (labels in that order; crops of other classes are
// skipped); split 'train' is train.txt, 'test' is val.txt; crops are sorted by file name. S is the
// image size (default 128, the voc-part preset's); a crop of another size is resized to S x S
// (bilinear; its mask by nearest neighbour). ImageNet normalization. Boxes are the masks' tight boxes
// (x1, y1 inclusive). Missing files, masks of another size than their crop and empty masks are
// errors that name the file.
//
// Part masks (VocPartOptions.parts): every {part}.bmp in part_mask/<stem>/ (nonzero = part), resized like
// the object mask, in VocPartDataset.parts. An image without a part_mask/<stem>/ folder has no parts (not
// an error); a mask that does not decode or is not its crop's size is an error naming the file; an
// all-zero part mask is kept (the part is named but not visible); files other than .bmp are ignored.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { readBmp, type BmpImage } from '../io/bmp.js';
import { maskBox, sharedBytes, type ImageDataset } from './dataset.js';
import type { Split } from './idx.js';

export const VOC_PART_CLASSES = ['bird', 'cat', 'dog', 'cow', 'horse', 'sheep'];
export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];

export interface VocPartOptions {
  /** Crop size S: the processed/{S}x{S} folder (default 128). */
  size?: number;
  /** Images decoded at once (default 8). */
  concurrency?: number;
  /** Also load the part masks (default false: they can take several times the object masks' memory). */
  parts?: boolean;
}

/**
 * The part masks of a split, flat: image i's parts are the entries offsets[i] .. offsets[i + 1] - 1, in
 * the order of their names.
 */
export interface VocPartMasks {
  /** Every part name found (the .bmp file names without extension), sorted; `part` indexes it. */
  names: string[];
  /** length + 1 entry offsets (image i: offsets[i] <= entry < offsets[i + 1]). */
  offsets: Int32Array;
  /** Per entry, the index of its part in names. */
  part: Int32Array;
  /** Per entry, height * width bytes: 1 = part, 0 = not. */
  masks: Uint8Array;
}

export interface VocPartDataset extends ImageDataset {
  /** With parts: true. */
  parts?: VocPartMasks;
}

/** Image i's part masks by part name (views into parts.masks). */
export function partMasksOf(parts: VocPartMasks, i: number, hw: number): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (let e = parts.offsets[i]!; e < parts.offsets[i + 1]!; e++) out.set(parts.names[parts.part[e]!]!, parts.masks.subarray(e * hw, (e + 1) * hw));
  return out;
}

/** A decoded mask (any channel nonzero = 1) into dst[off ..] at S x S, nearest neighbour (source index floor(i * in / S)). */
function maskInto(m: BmpImage, S: number, dst: Uint8Array, off: number): void {
  for (let y = 0; y < S; y++) {
    const sy = Math.min(m.height - 1, Math.floor((y * m.height) / S));
    for (let x = 0; x < S; x++) {
      const sx = Math.min(m.width - 1, Math.floor((x * m.width) / S));
      let v = 0;
      for (let c = 0; c < m.channels; c++) v |= m.data[(sy * m.width + sx) * m.channels + c]!;
      dst[off + y * S + x] = v ? 1 : 0;
    }
  }
}

/** The part masks of one crop (none without its folder), each at S x S. */
function readPartMasks(dir: string, stem: string, width: number, height: number, S: number): { name: string; mask: Uint8Array }[] {
  const folder = join(dir, 'part_mask', stem);
  if (!existsSync(folder)) return [];
  if (!statSync(folder).isDirectory()) throw new Error(`voc-part: ${folder} is not a folder (part_mask/<stem>/ holds one {part}.bmp per part)`);
  const files = readdirSync(folder).filter((f) => /\.bmp$/i.test(f)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return files.map((f) => {
    const file = join(folder, f);
    const m = readBmp(file);
    if (m.width !== width || m.height !== height) throw new Error(`voc-part: part mask ${file} is ${m.width}x${m.height} but its image is ${width}x${height}`);
    const mask = new Uint8Array(S * S);
    maskInto(m, S, mask, 0);
    return { name: f.replace(/\.bmp$/i, ''), mask };
  });
}

/** Flattens per-image part lists into VocPartMasks. */
function flattenParts(perImage: { name: string; mask: Uint8Array }[][], hw: number): VocPartMasks {
  const names = [...new Set(perImage.flatMap((p) => p.map((e) => e.name)))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const index = new Map(names.map((n, k) => [n, k]));
  const total = perImage.reduce((s, p) => s + p.length, 0);
  const offsets = new Int32Array(perImage.length + 1), part = new Int32Array(total), masks = new Uint8Array(total * hw);
  let e = 0;
  perImage.forEach((p, i) => {
    offsets[i] = e;
    for (const { name, mask } of [...p].sort((a, b) => index.get(a.name)! - index.get(b.name)!)) {
      part[e] = index.get(name)!;
      masks.set(mask, e * hw);
      e++;
    }
  });
  offsets[perImage.length] = e;
  return { names, offsets, part, masks };
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
const STEM = /^([^-]+)-(\d+)-(.+)$/;

/** The crops of one split: file stems (sorted) and labels. */
export function scanVocPart(root: string, split: Split, size = 128): { dir: string; stems: string[]; labels: number[] } {
  const processed = join(root, 'processed');
  if (!isDir(processed)) throw new Error(`voc-part: ${processed} does not exist (--data-root must hold processed/ of the released code)`);
  const metaFile = join(processed, 'metadata', split === 'train' ? 'train.txt' : 'val.txt');
  let ids: Set<string>;
  try {
    ids = new Set(readFileSync(metaFile, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== ''));
  } catch (e) {
    throw new Error(`voc-part: cannot read ${metaFile} (--data-root): ${(e as Error).message}`);
  }
  const dir = join(processed, `${size}x${size}`);
  const objImg = join(dir, 'obj_img');
  if (!isDir(objImg)) {
    const have = readdirSync(processed).filter((d) => /^\d+x\d+$/.test(d));
    throw new Error(`voc-part: ${objImg} does not exist (crops of ${size}x${size}, --image-size ${size}); found: ${have.length ? have.join(', ') : 'no NxN folders'}`);
  }
  const stems: string[] = [], labels: number[] = [];
  const files = readdirSync(objImg).filter((f) => /\.jpe?g$/i.test(f)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const f of files) {
    const stem = f.replace(/\.jpe?g$/i, '');
    const m = STEM.exec(stem);
    if (!m) throw new Error(`voc-part: ${join(objImg, f)}: the name is not {class}-{objid}-{imageid}.jpg`);
    const label = VOC_PART_CLASSES.indexOf(m[1]!);
    if (label < 0 || !ids.has(m[3]!)) continue;
    stems.push(stem);
    labels.push(label);
  }
  if (stems.length === 0) throw new Error(`voc-part ${split}: no crops of ${VOC_PART_CLASSES.join(', ')} in ${objImg} whose image id is listed in ${metaFile}`);
  return { dir, stems, labels };
}

async function decodeCrop(file: string): Promise<{ data: Buffer; width: number; height: number }> {
  try {
    const { data, info } = await sharp(file, { failOn: 'error', limitInputPixels: 1 << 26 }).removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    return { data, width: info.width, height: info.height };
  } catch (e) {
    throw new Error(`voc-part: cannot decode image ${file}: ${(e as Error).message}`);
  }
}

/** Loads a VOC Part split (crops, object masks, boxes; with opts.parts the part masks too). */
export async function loadVocPart(root: string, split: Split, opts: VocPartOptions = {}): Promise<VocPartDataset> {
  const S = opts.size ?? 128;
  if (!Number.isInteger(S) || S <= 0) throw new Error(`voc-part: size must be a positive integer, got ${S} (--image-size)`);
  const { dir, stems, labels } = scanVocPart(root, split, S);
  const n = stems.length, hw = S * S;
  const images = sharedBytes(n * 3 * hw), masks = sharedBytes(n * hw), boxes = new Int32Array(4 * n);
  const parts: { name: string; mask: Uint8Array }[][] = new Array(n).fill([]);
  let next = 0, failed: Error | undefined;
  const worker = async () => {
    while (failed === undefined && next < n) {
      const i = next++;
      try {
        const imgFile = join(dir, 'obj_img', `${stems[i]}.jpg`), maskFile = join(dir, 'obj_mask', `${stems[i]}.mask.bmp`);
        let { data, width, height } = await decodeCrop(imgFile);
        if (!existsSync(maskFile)) throw new Error(`voc-part: mask ${maskFile} of image ${imgFile} is missing`);
        const m = readBmp(maskFile);
        if (m.width !== width || m.height !== height) throw new Error(`voc-part: mask ${maskFile} is ${m.width}x${m.height} but its image ${imgFile} is ${width}x${height}`);
        if (width !== S || height !== S) {
          data = await sharp(data, { raw: { width, height, channels: 3 } }).resize(S, S, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
        }
        for (let c = 0; c < 3; c++) for (let k = 0; k < hw; k++) images[(i * 3 + c) * hw + k] = data[k * 3 + c]!;
        maskInto(m, S, masks, i * hw);
        const box = maskBox(masks, S, S, i * hw);
        if (!box) throw new Error(`voc-part: mask ${maskFile} is empty (all zero)`);
        boxes.set(box, 4 * i);
        if (opts.parts) parts[i] = readPartMasks(dir, stems[i]!, width, height, S);
      } catch (e) {
        failed ??= e as Error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 8, n) }, worker));
  if (failed) throw failed;
  const ds: VocPartDataset = {
    name: 'voc-part', numClasses: VOC_PART_CLASSES.length, classNames: [...VOC_PART_CLASSES], channels: 3, height: S, width: S,
    length: n, images, labels: Int32Array.from(labels), mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD], masks, boxes,
  };
  if (opts.parts) ds.parts = flattenParts(parts, hw);
  return ds;
}
