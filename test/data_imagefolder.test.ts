// ImageFolder loader on PNG/JPEG files written with sharp.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadImageFolder, scanImageFolder } from '../src/data/imagefolder.js';
import { loadDataset } from '../src/data/registry.js';
import { checkDataset, computeMeanStd } from '../src/data/dataset.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-data-if-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** HWC RGB pixels with a recognizable pattern. */
function rgb(w: number, h: number, seed: number): Buffer {
  const b = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    b[(y * w + x) * 3] = (seed + x * 20) & 0xff;
    b[(y * w + x) * 3 + 1] = (seed + y * 30) & 0xff;
    b[(y * w + x) * 3 + 2] = (seed * 3 + x + y) & 0xff;
  }
  return b;
}
const png = (w: number, h: number, seed: number, channels: 3 | 4 = 3) => {
  const px = rgb(w, h, seed);
  if (channels === 3) return sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
  const a = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) { px.copy(a, i * 4, i * 3, i * 3 + 3); a[i * 4 + 3] = 77; }
  return sharp(a, { raw: { width: w, height: h, channels: 4 } }).png().toBuffer();
};

const root = join(tmp, 'root');
before(async () => {
  for (const c of ['cat', 'dog', 'Zebra', '.hidden']) mkdirSync(join(root, c), { recursive: true });
  writeFileSync(join(root, 'cat', 'b.png'), await png(6, 4, 10));
  writeFileSync(join(root, 'cat', 'a.PNG'), await png(6, 4, 50, 4)); // RGBA: alpha dropped
  mkdirSync(join(root, 'cat', 'nested'));
  writeFileSync(join(root, 'cat', 'nested', 'c.png'), await png(6, 4, 90));
  writeFileSync(join(root, 'cat', 'notes.txt'), 'not an image');
  writeFileSync(join(root, 'dog', 'x.JPG'), await sharp(rgb(12, 8, 5), { raw: { width: 12, height: 8, channels: 3 } }).jpeg({ quality: 95 }).toBuffer());
  writeFileSync(join(root, 'dog', 'y.jpeg'), await sharp(Buffer.alloc(6 * 4, 200), { raw: { width: 6, height: 4, channels: 1 } }).png().toBuffer());
  writeFileSync(join(root, 'Zebra', 'z.png'), await png(6, 4, 130));
  writeFileSync(join(root, '.hidden', 'h.png'), await png(6, 4, 1));
  writeFileSync(join(root, 'top.png'), await png(6, 4, 1)); // files directly in root are not a class
});

test('scan: sorted classes (code-unit order like sorted()), recursive sorted files, hidden/non-image skipped', () => {
  const s = scanImageFolder(root);
  assert.deepEqual(s.classNames, ['Zebra', 'cat', 'dog']);
  assert.deepEqual(s.files.map((f) => f.slice(root.length + 1)), ['Zebra/z.png', 'cat/a.PNG', 'cat/b.png', 'cat/nested/c.png', 'dog/x.JPG', 'dog/y.jpeg']);
  assert.deepEqual(s.labels, [0, 1, 1, 1, 2, 2]);
});

test('load: exact CHW pixels for same-size PNGs, resize of others, default size from the first image', async () => {
  const ds = await loadImageFolder(root, { concurrency: 2 });
  checkDataset(ds);
  assert.deepEqual([ds.length, ds.channels, ds.height, ds.width, ds.numClasses], [6, 3, 4, 6, 3]);
  assert.deepEqual([...ds.labels], [0, 1, 1, 1, 2, 2]);
  const per = 3 * 4 * 6;
  for (const [i, seed] of [[0, 130], [1, 50], [2, 10], [3, 90]] as const) {
    const ref = rgb(6, 4, seed);
    for (let c = 0; c < 3; c++) for (let y = 0; y < 4; y++) for (let x = 0; x < 6; x++) {
      assert.equal(ds.images[i * per + c * 24 + y * 6 + x], ref[(y * 6 + x) * 3 + c], `image ${i} c${c} y${y} x${x}`);
    }
  }
  // Greyscale source -> 3 equal channels.
  for (let k = 0; k < 24; k++) for (let c = 0; c < 3; c++) assert.equal(ds.images[5 * per + c * 24 + k], 200);
  // The 12x8 JPEG was downscaled 2x: the red channel ramps by ~40 per output column.
  const red = Array.from(ds.images.subarray(4 * per, 4 * per + 6));
  for (let x = 1; x < 6; x++) assert.ok(Math.abs(red[x]! - red[x - 1]! - 40) < 12, `red row ${red}`);
  const st = computeMeanStd(ds.images, ds.length, 3, 4, 6);
  assert.deepEqual(ds.mean, st.mean);
  assert.deepEqual(ds.std, st.std);
  assert.ok(ds.mean.every((m) => m > 0 && m < 1));
});

test('load: size option and grayscale', async () => {
  const ds = await loadImageFolder(root, { size: [5, 7], grayscale: true });
  assert.deepEqual([ds.channels, ds.height, ds.width], [1, 5, 7]);
  assert.equal(ds.images.length, 6 * 35);
  assert.equal(ds.images[5 * 35 + 17], 200);
  assert.equal(ds.mean.length, 1);
  const sq = await loadImageFolder(root, { size: 3 });
  assert.deepEqual([sq.channels, sq.height, sq.width], [3, 3, 3]);
  await assert.rejects(loadImageFolder(root, { size: 0 }), /size must be a positive integer/);
});

test('errors: missing folder, no class folders, no images, undecodable image', async () => {
  await assert.rejects(loadImageFolder(join(tmp, 'nope')), /imagefolder: folder .*nope does not exist/);
  const flat = join(tmp, 'flat');
  mkdirSync(flat);
  writeFileSync(join(flat, 'a.png'), await png(2, 2, 1));
  await assert.rejects(loadImageFolder(flat), /no class subfolders in .*flat/);
  const empty = join(tmp, 'emptyclasses');
  mkdirSync(join(empty, 'a'), { recursive: true });
  mkdirSync(join(empty, 'b'));
  await assert.rejects(loadImageFolder(empty), /no \.png\/\.jpg\/\.jpeg images in any of the 2 class folders/);
  const bad = join(tmp, 'bad');
  mkdirSync(join(bad, 'k'), { recursive: true });
  writeFileSync(join(bad, 'k', 'a.png'), await png(4, 4, 1));
  writeFileSync(join(bad, 'k', 'broken.jpg'), Buffer.from('this is not a jpeg at all'));
  await assert.rejects(loadImageFolder(bad), /imagefolder: cannot decode image .*k\/broken\.jpg/);
  // A truncated PNG as the first image (used for the default size).
  const full = await png(8, 8, 3);
  writeFileSync(join(bad, 'k', 'a.png'), full.subarray(0, full.length - 30));
  await assert.rejects(loadImageFolder(bad, { size: 4 }), /cannot decode image .*k\/(a\.png|broken\.jpg)/);
});

test('registry: imagefolder with train/test split folders', async () => {
  const sp = join(tmp, 'splits');
  for (const s of ['train', 'test']) {
    mkdirSync(join(sp, s, 'b'), { recursive: true });
    writeFileSync(join(sp, s, 'b', '1.png'), await png(4, 4, s === 'train' ? 1 : 2));
  }
  mkdirSync(join(sp, 'train', 'a'));
  writeFileSync(join(sp, 'train', 'a', '2.png'), await png(4, 4, 3));
  const tr = await loadDataset('imagefolder', { root: sp, split: 'train', size: 4 });
  const te = await loadDataset('imagefolder', { root: sp, split: 'test', size: 4 });
  assert.deepEqual([tr.length, te.length], [2, 1]);
  assert.deepEqual([...te.labels], [1]);
  assert.deepEqual(te.classNames, ['a', 'b']);
  const flat = await loadDataset('imagefolder', { root, split: 'test' });
  assert.equal(flat.length, 6);
  rmSync(join(sp, 'test'), { recursive: true });
  await assert.rejects(loadDataset('imagefolder', { root: sp, split: 'test' }), /has split subfolders but no 'test' folder/);
});

test('splits: test classes are mapped to the training classes by name; extra or empty class folders are errors', async () => {
  const sp = join(tmp, 'splits2');
  const put = async (split: string, cls: string, name: string, seed: number, w = 4) => {
    mkdirSync(join(sp, split, cls), { recursive: true });
    writeFileSync(join(sp, split, cls, name), await png(w, w, seed));
  };
  for (const c of ['ant', 'bee', 'cow']) await put('train', c, '1.png', c.length + c.charCodeAt(0), 6);
  await put('test', 'bee', '1.png', 7, 5);
  await put('test', 'cow', '1.png', 8, 5);
  // test/ lacks 'ant': its images keep the training labels (bee = 1, cow = 2), and the size of train's first image.
  const te = await loadDataset('imagefolder', { root: sp, split: 'test' });
  assert.deepEqual(te.classNames, ['ant', 'bee', 'cow']);
  assert.equal(te.numClasses, 3);
  assert.deepEqual([...te.labels], [1, 2]);
  assert.deepEqual([te.height, te.width], [6, 6]);
  checkDataset(te);
  // A class that train/ does not have is named.
  await put('test', 'dog', '1.png', 9);
  await put('test', 'eel', '1.png', 9);
  await assert.rejects(loadDataset('imagefolder', { root: sp, split: 'test' }),
    (e: Error) => /class folders that the training split does not have: dog, eel/.test(e.message) && e.message.includes(join(sp, 'test')));
  rmSync(join(sp, 'test', 'dog'), { recursive: true });
  rmSync(join(sp, 'test', 'eel'), { recursive: true });
  // An empty class folder (or one with only non-images) is named, in either split.
  mkdirSync(join(sp, 'train', 'empty'));
  writeFileSync(join(sp, 'train', 'empty', 'readme.txt'), 'no images');
  await assert.rejects(loadDataset('imagefolder', { root: sp, split: 'train' }),
    (e: Error) => e.message.includes(`class folder ${join(sp, 'train', 'empty')} holds no .png/.jpg/.jpeg images`));
  await assert.rejects(loadImageFolder(join(sp, 'train')), /train\/empty holds no/);
  rmSync(join(sp, 'train', 'empty'), { recursive: true });
  assert.equal((await loadDataset('imagefolder', { root: sp, split: 'train' })).length, 3);
});

test('errors name the flag: a missing folder (--data-root), a first image too large to size the dataset by (--image-size)', async () => {
  await assert.rejects(loadDataset('imagefolder', { root: join(tmp, 'nothere'), split: 'train' }), /nothere does not exist \(--data-root\)/);
  await assert.rejects(loadDataset('cifar10', { split: 'train' }), /no data folder given \(pass --data-root DIR\)/);
  const big = join(tmp, 'big');
  mkdirSync(join(big, 'k'), { recursive: true });
  // A PNG header announcing 5000 x 5000 pixels (only the header is read for the size).
  const header = await png(2, 2, 1);
  header.writeUInt32BE(5000, 16); header.writeUInt32BE(5000, 20);
  writeFileSync(join(big, 'k', 'a.png'), header);
  await assert.rejects(loadImageFolder(big), (e: Error) => e.message.includes(join(big, 'k', 'a.png')) && /5000x5000 is too large.*--image-size/.test(e.message));
});

test('a symlink back to an ancestor folder is followed once, not forever', async () => {
  const loop = join(tmp, 'loop');
  mkdirSync(join(loop, 'k', 'sub'), { recursive: true });
  writeFileSync(join(loop, 'k', 'a.png'), await png(4, 4, 1));
  writeFileSync(join(loop, 'k', 'sub', 'b.png'), await png(4, 4, 2));
  symlinkSync(join(loop, 'k'), join(loop, 'k', 'sub', 'up'));
  const s = scanImageFolder(loop);
  assert.deepEqual(s.files.map((f) => f.slice(loop.length + 1)), ['k/a.png', 'k/sub/b.png']);
});
