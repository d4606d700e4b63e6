// A small VOC Part tree in the released code's processed layout (16 x 16 crops): object masks in 8- and
// 24-bit BMP, part masks per crop, a crop of another class and one of an image in no split.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

/** A BMP file as Windows writes it: 8-bit (palette, greyscale ramp), 24-bit or 32-bit, rows padded to 4 bytes. */
export function encodeBmp(w: number, h: number, bpp: 8 | 24 | 32, px: (x: number, y: number) => [number, number, number] | number, topDown = false): Buffer {
  const stride = Math.floor((bpp * w + 31) / 32) * 4;
  const pal = bpp === 8 ? 1024 : 0;
  const offset = 54 + pal;
  const b = Buffer.alloc(offset + stride * h);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(b.length, 2); b.writeUInt32LE(offset, 10); b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18); b.writeInt32LE(topDown ? -h : h, 22); b.writeUInt16LE(1, 26); b.writeUInt16LE(bpp, 28);
  b.writeUInt32LE(0, 30); b.writeUInt32LE(stride * h, 34);
  for (let i = 0; i < pal / 4; i++) { b[54 + 4 * i] = i; b[55 + 4 * i] = i; b[56 + 4 * i] = i; }
  for (let y = 0; y < h; y++) {
    const row = offset + (topDown ? y : h - 1 - y) * stride;
    for (let x = 0; x < w; x++) {
      const v = px(x, y);
      if (bpp === 8) b[row + x] = v as number;
      else { const [r, g, bl] = v as number[]; const o = row + x * (bpp / 8); b[o] = bl!; b[o + 1] = g!; b[o + 2] = r!; if (bpp === 32) b[o + 3] = 255; }
    }
  }
  return b;
}

export const VOC_FIXTURE_SIZE = 16;
const S = VOC_FIXTURE_SIZE;
export const VOC_FIXTURE_BOXES = { 'cat-1-2008_000001': [2, 3, 9, 12], 'dog-2-2008_000002': [0, 0, 15, 4], 'bird-1-2008_000003': [5, 5, 5, 5] } as Record<string, number[]>;

/** Writes the tree under root (its processed/ folder) and returns root. */
export async function vocPartFixture(root: string): Promise<string> {
  const p = join(root, 'processed'), d = join(p, `${S}x${S}`);
  for (const sub of ['metadata', `${S}x${S}/obj_img`, `${S}x${S}/obj_mask`]) mkdirSync(join(p, sub), { recursive: true });
  writeFileSync(join(p, 'metadata', 'train.txt'), '2008_000001\n2008_000002\n');
  writeFileSync(join(p, 'metadata', 'val.txt'), '2008_000003\n');
  const stems = [...Object.keys(VOC_FIXTURE_BOXES), 'car-1-2008_000001', 'sheep-1-2009_999999'];
  for (const [k, stem] of stems.entries()) {
    const rgb = Buffer.alloc(S * S * 3);
    for (let i = 0; i < S * S; i++) { rgb[3 * i] = 40 * k + (i % S) * 8; rgb[3 * i + 1] = 120; rgb[3 * i + 2] = 200 - 10 * k; }
    writeFileSync(join(d, 'obj_img', `${stem}.jpg`), await sharp(rgb, { raw: { width: S, height: S, channels: 3 } }).jpeg().toBuffer());
    const b = VOC_FIXTURE_BOXES[stem] ?? [0, 0, 3, 3];
    const inside = (x: number, y: number) => x >= b[0]! && x <= b[2]! && y >= b[1]! && y <= b[3]!;
    // Masks in both depths the released data could use: 8-bit indices (cat) and 24-bit colour.
    writeFileSync(join(d, 'obj_mask', `${stem}.mask.bmp`), k === 0 ? encodeBmp(S, S, 8, (x, y) => (inside(x, y) ? 1 : 0)) : encodeBmp(S, S, 24, (x, y) => (inside(x, y) ? [128, 0, 0] : [0, 0, 0])));
    if (stem.startsWith('dog')) continue;   // no part_mask/<stem>/: an image without parts
    mkdirSync(join(d, 'part_mask', stem), { recursive: true });
    const ps = VOC_FIXTURE_PARTS[stem] ?? { head: null };
    for (const [part, pb] of Object.entries(ps)) {
      const inPart = (x: number, y: number) => pb !== null && x >= pb[0]! && x <= pb[2]! && y >= pb[1]! && y <= pb[3]!;
      writeFileSync(join(d, 'part_mask', stem, `${part}.bmp`), part === 'torso' ? encodeBmp(S, S, 24, (x, y) => (inPart(x, y) ? [0, 0, 7] : [0, 0, 0])) : encodeBmp(S, S, 8, (x, y) => (inPart(x, y) ? 3 : 0)));
    }
    writeFileSync(join(d, 'part_mask', stem, 'notes.txt'), 'not a mask');
  }
  return root;
}
/** Part boxes per crop (null: an all-zero mask); the dog has no part folder. */
export const VOC_FIXTURE_PARTS: Record<string, Record<string, number[] | null>> = {
  'cat-1-2008_000001': { torso: [3, 6, 9, 12], head: [2, 3, 5, 5] },
  'bird-1-2008_000003': { beak: [5, 5, 5, 5], lwing: null },
};

