// VOC Part in the released code's processed layout (src/data/vocpart.ts) on a small fixture written
// here, and the strict BMP reader it uses for masks (src/io/bmp.ts).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeBmp } from '../src/io/bmp.js';
import { Rng } from '../src/data/rng.js';
import { checkDataset } from '../src/data/dataset.js';
import { loadDataset } from '../src/data/registry.js';
import { IMAGENET_MEAN, IMAGENET_STD, VOC_PART_CLASSES, loadVocPart, partMasksOf, type VocPartDataset } from '../src/data/vocpart.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-vocpart-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A BMP file as Windows writes it: 8-bit (palette, greyscale ramp), 24-bit or 32-bit, rows padded to 4 bytes. */
function encodeBmp(w: number, h: number, bpp: 8 | 24 | 32, px: (x: number, y: number) => [number, number, number] | number, topDown = false): Buffer {
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

test('BMP reader: 8-bit palette indices, 24-bit with row padding, 32-bit, bottom-up and top-down', () => {
  const m = decodeBmp(encodeBmp(5, 3, 8, (x, y) => x * 10 + y), 'a.bmp');
  assert.deepEqual([m.width, m.height, m.channels], [5, 3, 1]);
  assert.deepEqual(Array.from(m.data), [0, 10, 20, 30, 40, 1, 11, 21, 31, 41, 2, 12, 22, 32, 42]);
  assert.equal(m.palette!.length, 768);
  for (const topDown of [false, true]) {
    for (const bpp of [24, 32] as const) {
      const c = decodeBmp(encodeBmp(5, 2, bpp, (x, y) => [x, 100 + y, 200 + x + y], topDown), 'c.bmp');
      assert.equal(c.channels, 3);
      assert.deepEqual(Array.from(c.data.subarray(0, 6)), [0, 100, 200, 1, 100, 201]);
      assert.deepEqual(Array.from(c.data.subarray(27, 30)), [4, 101, 205]);
    }
  }
});

test('BMP reader refuses what it does not support, naming the file', () => {
  const ok = encodeBmp(4, 4, 24, () => [1, 2, 3]);
  const mut = (f: (b: Buffer) => void) => { const b = Buffer.from(ok); f(b); return b; };
  assert.throws(() => decodeBmp(mut((b) => { b[0] = 0x50; }), 'x/m.bmp'), /^Error: x\/m\.bmp: not a BMP file/);
  assert.throws(() => decodeBmp(mut((b) => b.writeUInt32LE(1, 30)), 'x/m.bmp'), /x\/m\.bmp: compressed BMP \(compression 1\)/);
  assert.throws(() => decodeBmp(mut((b) => b.writeUInt16LE(16, 28)), 'x/m.bmp'), /x\/m\.bmp: unsupported BMP bit depth 16/);
  assert.throws(() => decodeBmp(mut((b) => b.writeUInt32LE(12, 14)), 'x/m.bmp'), /x\/m\.bmp: unsupported BMP header of 12 bytes/);
  assert.throws(() => decodeBmp(ok.subarray(0, ok.length - 1), 'x/m.bmp'), /x\/m\.bmp: truncated BMP pixel data/);
  assert.throws(() => decodeBmp(ok.subarray(0, 20), 'x/m.bmp'), /x\/m\.bmp: not a BMP file: 20 bytes/);
  assert.throws(() => decodeBmp(mut((b) => b.writeInt32LE(0, 18)), 'x/m.bmp'), /x\/m\.bmp: bad BMP size 0x4/);
  assert.throws(() => decodeBmp(mut((b) => { b.writeInt32LE(1 << 14, 18); b.writeInt32LE(1 << 14, 22); }), 'x/m.bmp'), /x\/m\.bmp: BMP of 16384x16384 is too large/);
});

const S = 16;
const box = { 'cat-1-2008_000001': [2, 3, 9, 12], 'dog-2-2008_000002': [0, 0, 15, 4], 'bird-1-2008_000003': [5, 5, 5, 5] } as Record<string, number[]>;

async function fixture(name: string): Promise<string> {
  const root = join(tmp, name), p = join(root, 'processed'), d = join(p, `${S}x${S}`);
  for (const sub of ['metadata', `${S}x${S}/obj_img`, `${S}x${S}/obj_mask`]) mkdirSync(join(p, sub), { recursive: true });
  writeFileSync(join(p, 'metadata', 'train.txt'), '2008_000001\n2008_000002\n');
  writeFileSync(join(p, 'metadata', 'val.txt'), '2008_000003\n');
  const stems = [...Object.keys(box), 'car-1-2008_000001', 'sheep-1-2009_999999'];
  for (const [k, stem] of stems.entries()) {
    const rgb = Buffer.alloc(S * S * 3);
    for (let i = 0; i < S * S; i++) { rgb[3 * i] = 40 * k + (i % S) * 8; rgb[3 * i + 1] = 120; rgb[3 * i + 2] = 200 - 10 * k; }
    writeFileSync(join(d, 'obj_img', `${stem}.jpg`), await sharp(rgb, { raw: { width: S, height: S, channels: 3 } }).jpeg().toBuffer());
    const b = box[stem] ?? [0, 0, 3, 3];
    const inside = (x: number, y: number) => x >= b[0]! && x <= b[2]! && y >= b[1]! && y <= b[3]!;
    // Masks in both depths the released data could use: 8-bit indices (cat) and 24-bit colour.
    writeFileSync(join(d, 'obj_mask', `${stem}.mask.bmp`), k === 0 ? encodeBmp(S, S, 8, (x, y) => (inside(x, y) ? 1 : 0)) : encodeBmp(S, S, 24, (x, y) => (inside(x, y) ? [128, 0, 0] : [0, 0, 0])));
    if (stem.startsWith('dog')) continue;   // no part_mask/<stem>/: an image without parts
    mkdirSync(join(d, 'part_mask', stem), { recursive: true });
    const ps = parts[stem] ?? { head: null };
    for (const [part, pb] of Object.entries(ps)) {
      const inPart = (x: number, y: number) => pb !== null && x >= pb[0]! && x <= pb[2]! && y >= pb[1]! && y <= pb[3]!;
      writeFileSync(join(d, 'part_mask', stem, `${part}.bmp`), part === 'torso' ? encodeBmp(S, S, 24, (x, y) => (inPart(x, y) ? [0, 0, 7] : [0, 0, 0])) : encodeBmp(S, S, 8, (x, y) => (inPart(x, y) ? 3 : 0)));
    }
    writeFileSync(join(d, 'part_mask', stem, 'notes.txt'), 'not a mask');
  }
  return root;
}
/** Part boxes per crop (null: an all-zero mask); the dog has no part folder. */
const parts: Record<string, Record<string, number[] | null>> = {
  'cat-1-2008_000001': { torso: [3, 6, 9, 12], head: [2, 3, 5, 5] },
  'bird-1-2008_000003': { beak: [5, 5, 5, 5], lwing: null },
};

test('VOC Part processed layout: splits from metadata, labels by class, masks and boxes, ImageNet normalisation', async () => {
  const root = await fixture('ok');
  const tr = await loadDataset('voc-part', { root, split: 'train', size: S });
  checkDataset(tr);
  assert.deepEqual(tr.classNames, VOC_PART_CLASSES);
  assert.equal(tr.length, 2, 'car (another class) and sheep (image id in no split) are skipped');
  assert.deepEqual(Array.from(tr.labels), [1, 2]);
  assert.deepEqual(Array.from(tr.boxes!), [...box['cat-1-2008_000001']!, ...box['dog-2-2008_000002']!]);
  assert.equal(tr.masks!.reduce((s, v) => s + v, 0), 8 * 10 + 16 * 5);
  assert.deepEqual(tr.mean, IMAGENET_MEAN);
  assert.deepEqual(tr.std, IMAGENET_STD);
  const { data } = await sharp(join(root, 'processed', `${S}x${S}`, 'obj_img', 'cat-1-2008_000001.jpg')).raw().toBuffer({ resolveWithObject: true });
  for (let c = 0; c < 3; c++) for (let k = 0; k < S * S; k++) assert.equal(tr.images[c * S * S + k], data[3 * k + c]);
  const te = await loadDataset('voc-part', { root, split: 'test', size: S });
  assert.deepEqual(Array.from(te.labels), [0]);
  assert.deepEqual(Array.from(te.boxes!), [5, 5, 5, 5]);
});

test('VOC Part part masks: part_mask/<stem>/{part}.bmp per image, none without the folder, names sorted', async () => {
  const root = await fixture('parts');
  assert.equal((await loadDataset('voc-part', { root, split: 'train', size: S }) as VocPartDataset).parts, undefined, 'not loaded unless asked for');
  const tr = await loadVocPart(root, 'train', { size: S, parts: true });
  const p = tr.parts!, hw = S * S;
  assert.deepEqual(p.names, ['head', 'torso']);
  assert.deepEqual(Array.from(p.offsets), [0, 2, 2], 'cat: head and torso; dog: no part folder, no parts');
  assert.deepEqual(Array.from(p.part), [0, 1]);
  const rect = (b: number[] | null) => Uint8Array.from({ length: hw }, (_, k) => (b && k % S >= b[0]! && k % S <= b[2]! && Math.floor(k / S) >= b[1]! && Math.floor(k / S) <= b[3]! ? 1 : 0));
  const cat = partMasksOf(p, 0, hw);
  assert.deepEqual([...cat.keys()], ['head', 'torso']);
  assert.deepEqual(cat.get('head'), rect(parts['cat-1-2008_000001']!.head!), '8-bit palette index 3 = part');
  assert.deepEqual(cat.get('torso'), rect(parts['cat-1-2008_000001']!.torso!), '24-bit colour = part');
  assert.equal(partMasksOf(p, 1, hw).size, 0);
  assert.equal(p.masks.length, 2 * hw);
  const te = await loadVocPart(root, 'test', { size: S, parts: true });
  assert.deepEqual(te.parts!.names, ['beak', 'lwing']);
  const bird = partMasksOf(te.parts!, 0, hw);
  assert.deepEqual(bird.get('beak'), rect([5, 5, 5, 5]));
  assert.deepEqual(bird.get('lwing'), rect(null), 'an all-zero part mask is kept');
  // Bad part masks are errors naming the file.
  const d = join(root, 'processed', `${S}x${S}`, 'part_mask');
  writeFileSync(join(d, 'cat-1-2008_000001', 'torso.bmp'), encodeBmp(S, S - 1, 24, () => [1, 1, 1]));
  await assert.rejects(loadVocPart(root, 'train', { size: S, parts: true }), /voc-part: part mask .*part_mask\/cat-1-2008_000001\/torso\.bmp is 16x15 but its image is 16x16/);
  writeFileSync(join(d, 'cat-1-2008_000001', 'torso.bmp'), 'BM corrupt');
  await assert.rejects(loadVocPart(root, 'train', { size: S, parts: true }), /part_mask\/cat-1-2008_000001\/torso\.bmp: not a BMP file/);
  assert.ok(await loadVocPart(root, 'train', { size: S }), 'without parts the part masks are not read');
  rmSync(join(d, 'bird-1-2008_000003'), { recursive: true });
  writeFileSync(join(d, 'bird-1-2008_000003'), '');
  await assert.rejects(loadVocPart(root, 'test', { size: S, parts: true }), /part_mask\/bird-1-2008_000003 is not a folder/);
});

test('VOC Part errors name the file or the flag', async () => {
  let root = await fixture('e1');
  await assert.rejects(loadDataset('voc-part', { root, split: 'train', size: 32 }), /e1\/processed\/32x32\/obj_img does not exist .*--image-size 32.*found: 16x16/);
  await assert.rejects(loadDataset('voc-part', { root: join(tmp, 'none'), split: 'train' }), /none\/processed does not exist \(--data-root/);
  await assert.rejects(loadDataset('voc-part', { split: 'train' }), /voc-part: no data folder given/);
  unlinkSync(join(root, 'processed', 'metadata', 'val.txt'));
  await assert.rejects(loadDataset('voc-part', { root, split: 'test', size: S }), /cannot read .*e1\/processed\/metadata\/val\.txt/);
  const d = join(root, 'processed', `${S}x${S}`);
  unlinkSync(join(d, 'obj_mask', 'dog-2-2008_000002.mask.bmp'));
  await assert.rejects(loadDataset('voc-part', { root, split: 'train', size: S }), /mask .*obj_mask\/dog-2-2008_000002\.mask\.bmp of image .*obj_img\/dog-2-2008_000002\.jpg is missing/);
  root = await fixture('e2');
  const d2 = join(root, 'processed', `${S}x${S}`);
  writeFileSync(join(d2, 'obj_mask', 'cat-1-2008_000001.mask.bmp'), encodeBmp(S, S - 1, 8, () => 1));
  await assert.rejects(loadDataset('voc-part', { root, split: 'train', size: S }), /mask .*cat-1-2008_000001\.mask\.bmp is 16x15 but its image .*cat-1-2008_000001\.jpg is 16x16/);
  writeFileSync(join(d2, 'obj_mask', 'cat-1-2008_000001.mask.bmp'), encodeBmp(S, S, 8, () => 0));
  await assert.rejects(loadDataset('voc-part', { root, split: 'train', size: S }), /mask .*cat-1-2008_000001\.mask\.bmp is empty/);
  writeFileSync(join(d2, 'obj_mask', 'cat-1-2008_000001.mask.bmp'), 'BMnonsense');
  await assert.rejects(loadDataset('voc-part', { root, split: 'train', size: S }), /cat-1-2008_000001\.mask\.bmp: not a BMP file/);
  writeFileSync(join(d2, 'obj_img', 'badname.jpg'), Buffer.alloc(10));
  await assert.rejects(loadDataset('voc-part', { root, split: 'train', size: S }), /obj_img\/badname\.jpg: the name is not \{class\}-\{objid\}-\{imageid\}\.jpg/);
  unlinkSync(join(d2, 'obj_img', 'badname.jpg'));
  writeFileSync(join(d2, 'obj_img', 'cat-1-2008_000001.jpg'), Buffer.from('not a jpeg'));
  await assert.rejects(loadDataset('voc-part', { root, split: 'train', size: S }), /cannot decode image .*cat-1-2008_000001\.jpg/);
});

test('BMP reader fuzz: 1,000 mutated files each decode consistently or fail with an error naming the file', () => {
  const seeds = [encodeBmp(5, 3, 8, (x, y) => x + y), encodeBmp(6, 4, 24, (x, y) => [x, y, 7]), encodeBmp(3, 5, 32, (x) => [x, 1, 2], true)];
  const fields = [2, 10, 14, 18, 22, 26, 28, 30, 34, 46];
  const interesting = [0, 1, 8, 12, 24, 32, 40, 54, 124, 255, 256, 0x7fffffff, 0x80000000, 0xffffffff];
  const rng = new Rng(31);
  for (let t = 0; t < 1000; t++) {
    const b = Buffer.from(seeds[t % 3]!);
    let bytes: Buffer = b;
    switch (rng.int(4)) {
      case 0: bytes = b.subarray(0, rng.int(b.length + 1)); break;
      case 1: for (let i = 0; i < 3; i++) b[rng.int(b.length)]! ^= 1 << rng.int(8); break;
      case 2: b.writeUInt32LE(interesting[rng.int(interesting.length)]!, fields[rng.int(fields.length)]!); break;
      default: b.writeInt32LE(-(1 + rng.int(64)), [18, 22][rng.int(2)]!);
    }
    try {
      const m = decodeBmp(bytes, 'fuzz/f.bmp');
      assert.equal(m.data.length, m.width * m.height * m.channels);
    } catch (e) {
      assert.match((e as Error).message, /^fuzz\/f\.bmp: /, `mutation ${t}`);
    }
  }
});
