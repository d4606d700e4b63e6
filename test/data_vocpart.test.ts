// VOC Part in the released code's processed layout (src/data/vocpart.ts) on a small fixture
// (test/support/vocpart_fixture.ts), and the strict BMP reader it uses for masks (src/io/bmp.ts).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeBmp } from '../src/io/bmp.js';
import { Rng } from '../src/data/rng.js';
import { checkDataset } from '../src/data/dataset.js';
import { loadDataset } from '../src/data/registry.js';
import { encodeBmp, vocPartFixture, VOC_FIXTURE_BOXES as box, VOC_FIXTURE_PARTS as parts, VOC_FIXTURE_SIZE } from './support/vocpart_fixture.js';
import { IMAGENET_MEAN, IMAGENET_STD, VOC_PART_CLASSES, loadVocPart, partMasksOf, type VocPartDataset } from '../src/data/vocpart.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-vocpart-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

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

const S = VOC_FIXTURE_SIZE;
const fixture = (name: string) => vocPartFixture(join(tmp, name));

test('VOC Part processed layout: splits from metadata, labels by class, masks and boxes, ImageNet normalization', async () => {
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
