// Seeded, deterministic fuzzing of every file reader: idx (raw and gzipped), CIFAR binary, .npy,
// safetensors, and PNG/JPEG through the image-folder loader. Valid seed files are built here, then
// mutated (truncation, bit flips, byte stores, insertions, interesting integers in header fields,
// huge header lengths, wrong dtypes and shapes). Every case must either load a consistent result or
// throw an Error whose message names the file; no abort, no hang (the test timeout), and the process
// memory stays bounded (checked after every case).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { Rng } from '../src/data/rng.js';
import { loadMnistLike } from '../src/data/idx.js';
import { loadCifar } from '../src/data/cifar.js';
import { loadImageFolder } from '../src/data/imagefolder.js';
import { checkDataset, type ImageDataset } from '../src/data/dataset.js';
import { readNpy, writeNpy, type NpyData } from '../src/io/npy.js';
import { loadSafetensors, saveSafetensors } from '../src/torch/io/safetensors.js';
import { fromTypedArray, tidy } from '../src/torch/index.js';

const CASES = 1000;
/** Hang guard only (node:test fails a test that runs longer); the whole file takes seconds. */
const TIMEOUT = 300_000;
/** Growth of the resident set allowed over the start of each test: the readers hold small files,
 *  so anything near this means a header-sized allocation got through. */
const RSS_SLACK = 512 * 2 ** 20;

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-fuzz-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const INTERESTING_U32 = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/** One random mutation of `b` (a new buffer). `fields` are byte offsets of 4-byte header fields. */
function mutate(rng: Rng, b: Buffer, fields: number[] = []): Buffer {
  const out = Buffer.from(b);
  switch (rng.int(fields.length ? 8 : 7)) {
    case 0: return out.subarray(0, rng.int(out.length + 1)); // truncation
    case 1: { // 1-4 bit flips
      const k = 1 + rng.int(4);
      for (let i = 0; i < k && out.length; i++) out[rng.int(out.length)]! ^= 1 << rng.int(8);
      return out;
    }
    case 2: { // byte stores
      const k = 1 + rng.int(3);
      for (let i = 0; i < k && out.length; i++) out[rng.int(out.length)] = [0, 0xff, 0x7f, 0x80][rng.int(4)]!;
      return out;
    }
    case 3: { // bit flips in the first 32 bytes (headers)
      const n = Math.min(32, out.length);
      for (let i = 0; i < 2 && n; i++) out[rng.int(n)]! ^= 1 << rng.int(8);
      return out;
    }
    case 4: { // appended bytes
      const extra = Buffer.alloc(1 + rng.int(300));
      for (let i = 0; i < extra.length; i++) extra[i] = rng.int(256);
      return Buffer.concat([out, extra]);
    }
    case 5: { // a byte inserted or deleted
      const at = rng.int(out.length + 1);
      return rng.int(2) ? Buffer.concat([out.subarray(0, at), Buffer.from([rng.int(256)]), out.subarray(at)]) : Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
    }
    case 6: { // a random 4-byte little- or big-endian integer anywhere
      if (out.length < 4) return out;
      const at = rng.int(out.length - 3), v = INTERESTING_U32[rng.int(INTERESTING_U32.length)]!;
      if (rng.int(2)) out.writeUInt32BE(v, at); else out.writeUInt32LE(v, at);
      return out;
    }
    default: { // an interesting value in a header field
      const at = fields[rng.int(fields.length)]!;
      if (at + 4 <= out.length) out.writeUInt32BE(INTERESTING_U32[rng.int(INTERESTING_U32.length)]!, at);
      return out;
    }
  }
}

interface Tally { ok: number; err: number }

/** Runs `fn`; a throw must be an Error naming one of `paths`. Checks memory after each case. */
async function check(tally: Tally, what: string, paths: string[], fn: () => unknown | Promise<unknown>, rssLimit: number): Promise<void> {
  try {
    await fn();
    tally.ok++;
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e; // a load that returned an inconsistent result
    assert.ok(e instanceof Error, `${what}: threw a non-Error ${String(e)}`);
    assert.ok(paths.some((p) => e.message.includes(p)), `${what}: the error does not name the file (${paths.join(' or ')}): ${e.message}`);
    tally.err++;
  }
  const rss = process.memoryUsage().rss;
  assert.ok(rss < rssLimit, `${what}: RSS ${(rss / 2 ** 20).toFixed(0)} MiB is over the bound ${(rssLimit / 2 ** 20).toFixed(0)} MiB`);
}

function consistent(ds: ImageDataset): void {
  checkDataset(ds);
  assert.ok(ds.length > 0, 'a loaded dataset is not empty');
}

function idx3(n: number, h: number, w: number): Buffer {
  const b = Buffer.alloc(16 + n * h * w);
  b.writeUInt32BE(0x803, 0); b.writeUInt32BE(n, 4); b.writeUInt32BE(h, 8); b.writeUInt32BE(w, 12);
  for (let i = 16; i < b.length; i++) b[i] = (i * 37) & 0xff;
  return b;
}
function idx1(labels: number[]): Buffer {
  const b = Buffer.alloc(8 + labels.length);
  b.writeUInt32BE(0x801, 0); b.writeUInt32BE(labels.length, 4);
  labels.forEach((l, i) => (b[8 + i] = l));
  return b;
}

test(`idx files, raw and gzipped: ${CASES} mutations each`, { timeout: TIMEOUT }, async (t) => {
  const rssLimit = process.memoryUsage().rss + RSS_SLACK;
  const img = idx3(3, 4, 5), lbl = idx1([1, 9, 0]);
  for (const gz of [false, true]) {
    const rng = new Rng(gz ? 11 : 10);
    const tally: Tally = { ok: 0, err: 0 };
    const dir = join(tmp, gz ? 'idx-gz' : 'idx-raw');
    mkdirSync(dir);
    const sfx = gz ? '.gz' : '';
    const imgPath = join(dir, `t10k-images-idx3-ubyte${sfx}`), lblPath = join(dir, `t10k-labels-idx1-ubyte${sfx}`);
    for (let i = 0; i < CASES; i++) {
      const onImages = rng.int(3) > 0;
      const seed = onImages ? img : lbl;
      const fields = onImages ? [0, 4, 8, 12] : [0, 4];
      let bytes: Buffer, other = onImages ? lbl : img;
      if (rng.int(8) === 0) { // well-formed files that agree on a count, 0 included
        const count = [0, 0, 1, 2, 4][rng.int(5)]!;
        const im = idx3(count, 4, 5), lb = idx1(Array.from({ length: count }, (_, k) => k));
        [bytes, other] = onImages ? [im, lb] : [lb, im];
        if (gz) bytes = gzipSync(bytes);
      } else if (!gz) bytes = mutate(rng, seed, fields);
      else if (rng.int(2)) bytes = gzipSync(mutate(rng, seed, fields));
      else bytes = mutate(rng, gzipSync(seed), [4]); // the gzip stream itself (header, deflate data, CRC, size)
      writeFileSync(onImages ? imgPath : lblPath, bytes);
      writeFileSync(onImages ? lblPath : imgPath, gz ? gzipSync(other) : other);
      await check(tally, `idx${gz ? ' gz' : ''} case ${i}`, [imgPath, lblPath], () => consistent(loadMnistLike(dir, 'test', 'mnist')), rssLimit);
    }
    t.diagnostic(`idx ${gz ? 'gzipped' : 'raw'}: ${tally.ok} loaded, ${tally.err} refused`);
    assert.ok(tally.ok > 0 && tally.err > 0, JSON.stringify(tally));
  }
});

test(`CIFAR-10 binary batches and class names: ${CASES} mutations`, { timeout: TIMEOUT }, async (t) => {
  const rssLimit = process.memoryUsage().rss + RSS_SLACK;
  const rng = new Rng(20);
  const tally: Tally = { ok: 0, err: 0 };
  const dir = join(tmp, 'cifar', 'cifar-10-batches-bin');
  mkdirSync(dir, { recursive: true });
  const batch = Buffer.alloc(3 * 3073);
  for (let r = 0; r < 3; r++) { batch[r * 3073] = r * 4; for (let k = 1; k < 3073; k++) batch[r * 3073 + k] = (r + k) & 0xff; }
  const names = Buffer.from('airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n');
  const batchPath = join(dir, 'test_batch.bin'), namesPath = join(dir, 'batches.meta.txt');
  for (let i = 0; i < CASES; i++) {
    const onBatch = rng.int(4) > 0;
    writeFileSync(batchPath, onBatch ? mutate(rng, batch, [0, 3073, 6146]) : batch);
    writeFileSync(namesPath, onBatch ? names : mutate(rng, names));
    await check(tally, `cifar case ${i}`, [onBatch ? batchPath : namesPath], () => consistent(loadCifar(join(tmp, 'cifar'), 'test', 'cifar10')), rssLimit);
  }
  t.diagnostic(`cifar: ${tally.ok} loaded, ${tally.err} refused`);
  assert.ok(tally.ok > 0 && tally.err > 0, JSON.stringify(tally));
});

/** The header dict of a version 1/2 .npy file, its text and where it starts. */
function npyParts(b: Buffer): { pre: Buffer; header: string; data: Buffer } {
  const v = b[6]!;
  const start = v === 1 ? 10 : 12;
  const len = v === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  return { pre: b.subarray(0, start), header: b.subarray(start, start + len).toString('latin1'), data: b.subarray(start + len) };
}
function npyJoin(pre: Buffer, header: string, data: Buffer): Buffer {
  const p = Buffer.from(pre);
  if (p[6] === 1) p.writeUInt16LE(Math.min(header.length, 0xffff), 8); else p.writeUInt32LE(header.length, 8);
  return Buffer.concat([p, Buffer.from(header, 'latin1'), data]);
}
const DESCRS = ['<f4', '<f8', '<i8', '<i4', '<i2', '|u1', '|b1', '>f4', '<c8', '|O', '<u8', '<f2', '', "'", '<f4x', 'V8', '|S3', '<M8[s]'];
const SHAPES = ['()', '(0,)', '(1,)', '(2, 3)', '(6,)', '(3, 2, 1)', '(1e9,)', '(-1,)', '(3, 4', '(18446744073709551616,)', '(9007199254740993,)',
  '(4294967296, 4294967296)', '(2,,3)', '(0x6,)', '(6L,)', '(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 6)'];

test(`.npy files: ${CASES} mutations (bytes, dtypes, shapes, header lengths)`, { timeout: TIMEOUT }, async (t) => {
  const rssLimit = process.memoryUsage().rss + RSS_SLACK;
  const rng = new Rng(30);
  const tally: Tally = { ok: 0, err: 0 };
  const dir = join(tmp, 'npy');
  mkdirSync(dir);
  const seeds: Buffer[] = [];
  const seedArrays: [NpyData, number[], string?][] = [
    [Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]], [BigInt64Array.from([1n, -2n, 3n]), [3]], [Uint8Array.from([0, 1, 1]), [3], '|b1'],
    [Int16Array.from([7, 8]), [2, 1]], [Float64Array.from([Math.PI]), []], [Uint8Array.from([1, 2, 3, 4, 5, 6]), [6]],
  ];
  for (const [k, [data, shape, dtype]] of seedArrays.entries()) {
    const p = join(dir, `seed${k}.npy`);
    writeNpy(p, data, shape, { dtype });
    seeds.push(readFileSync(p));
  }
  // A version 2.0 seed.
  const v1 = npyParts(seeds[0]!);
  const v2pre = Buffer.alloc(12); v1.pre.copy(v2pre, 0, 0, 8); v2pre[6] = 2;
  seeds.push(npyJoin(v2pre, v1.header, v1.data));
  const path = join(dir, 'case.npy');
  for (let i = 0; i < CASES; i++) {
    const seed = seeds[rng.int(seeds.length)]!;
    let bytes: Buffer;
    const kind = rng.int(5);
    if (kind < 2) bytes = mutate(rng, seed, [6, 8]);
    else {
      const { pre, header, data } = npyParts(seed);
      if (kind === 2) bytes = npyJoin(pre, header.replace(/'descr': '[^']*'/, `'descr': '${DESCRS[rng.int(DESCRS.length)]}'`), data);
      else if (kind === 3) bytes = npyJoin(pre, header.replace(/'shape': \([^)]*\)/, `'shape': ${SHAPES[rng.int(SHAPES.length)]}`), data);
      else { // a huge or wrong header length
        bytes = Buffer.from(seed);
        if (bytes[6] === 1) bytes.writeUInt16LE([0xffff, 0, 1, rng.int(0x10000)][rng.int(4)]!, 8);
        else bytes.writeUInt32LE([0xffffffff, 0x7fffffff, 0, rng.int(2 ** 32)][rng.int(4)]!, 8);
      }
    }
    writeFileSync(path, bytes);
    await check(tally, `npy case ${i}`, [path], () => {
      const a = readNpy(path);
      assert.equal(a.data.length, a.shape.reduce((x, y) => x * y, 1), `npy case ${i}: data length matches the shape`);
      // Every byte is accounted for: no trailing data after the array.
      const headerEnd = bytes[6] === 1 ? 10 + bytes.readUInt16LE(8) : 12 + bytes.readUInt32LE(8);
      assert.equal(bytes.length, headerEnd + a.data.byteLength, `npy case ${i}: ${bytes.length - headerEnd - a.data.byteLength} bytes after the data were accepted`);
    }, rssLimit);
  }
  t.diagnostic(`npy: ${tally.ok} loaded, ${tally.err} refused`);
  assert.ok(tally.ok > 0 && tally.err > 0, JSON.stringify(tally));
});

const HOSTILE_DIMS: unknown[] = [2 ** 53, 2 ** 53 + 2, -1, 1.5, '3', null, 1e300, 2 ** 31, 2 ** 32, 0];
const HOSTILE_OFFSETS: unknown[] = [[0, 2 ** 60], [5, 3], [-1, 4], [0, 1.5], [0], 'x', [2 ** 53, 2 ** 53 + 8], [0, 0], [1e300, 1e300]];
const HOSTILE_DTYPES: unknown[] = ['constructor', 'toString', '__proto__', 'U16', 'F8_E4M3', 'Q7', '', 7, null, 'F64', 'BOOL', 'I8'];

test(`safetensors files: ${CASES} mutations (bytes, header JSON, header lengths)`, { timeout: TIMEOUT }, async (t) => {
  const rssLimit = process.memoryUsage().rss + RSS_SLACK;
  const rng = new Rng(40);
  const tally: Tally = { ok: 0, err: 0 };
  const dir = join(tmp, 'st');
  mkdirSync(dir);
  const seedPath = join(dir, 'seed.safetensors');
  tidy(() => saveSafetensors(seedPath, {
    w: fromTypedArray(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]), step: fromTypedArray(BigInt64Array.from([5n, 6n]), [2]),
    mask: fromTypedArray(Uint8Array.from([1, 0, 1]), [3]).to('bool'), empty: fromTypedArray(new Uint8Array(0), [0, 4]),
  }, { format: 'fuzz', note: 'x' }));
  const seed = readFileSync(seedPath);
  const n = Number(seed.readBigUInt64LE(0));
  const header = JSON.parse(seed.subarray(8, 8 + n).toString('utf8'));
  const data = seed.subarray(8 + n);
  const path = join(dir, 'case.safetensors');
  for (let i = 0; i < CASES; i++) {
    let bytes: Buffer;
    const kind = rng.int(4);
    if (kind === 0) bytes = mutate(rng, seed, [0, 4]);
    else if (kind === 1) { // the header length field
      bytes = Buffer.from(seed);
      bytes.writeBigUInt64LE([2n ** 63n, 2n ** 40n, 0n, BigInt(n + 1), BigInt(n - 1), 100_000_000n, BigInt(seed.length)][rng.int(7)]!, 0);
    } else { // one field of one entry
      const h = structuredClone(header);
      const names = Object.keys(h).filter((k) => k !== '__metadata__');
      const e = h[names[rng.int(names.length)]!];
      const f = rng.int(kind === 2 ? 3 : 4);
      if (f === 0) e.shape = rng.int(2) ? [HOSTILE_DIMS[rng.int(HOSTILE_DIMS.length)]] : [...e.shape, HOSTILE_DIMS[rng.int(HOSTILE_DIMS.length)]];
      else if (f === 1) e.data_offsets = HOSTILE_OFFSETS[rng.int(HOSTILE_OFFSETS.length)];
      else if (f === 2) e.dtype = HOSTILE_DTYPES[rng.int(HOSTILE_DTYPES.length)];
      else h.__metadata__ = [{ a: 1 }, 'x', null, { state: 'not json' }][rng.int(4)];
      let text = JSON.stringify(h);
      if (rng.int(4) === 0) text = `{"__proto__":${JSON.stringify(e)},` + text.slice(1);
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(Buffer.byteLength(text)));
      bytes = Buffer.concat([len, Buffer.from(text), data]);
    }
    writeFileSync(path, bytes);
    await check(tally, `safetensors case ${i}`, [path], () => {
      const { tensors } = loadSafetensors(path);
      for (const [name, tt] of Object.entries(tensors)) {
        assert.ok(tt.shape.every((d) => Number.isSafeInteger(d) && d >= 0), `safetensors case ${i}: tensor ${name} shape ${tt.shape}`);
        tt.dispose();
      }
    }, rssLimit);
  }
  t.diagnostic(`safetensors: ${tally.ok} loaded, ${tally.err} refused`);
  assert.ok(tally.ok > 0 && tally.err > 0, JSON.stringify(tally));
});

test(`PNG and JPEG images through the image-folder loader: ${CASES} mutations`, { timeout: TIMEOUT }, async (t) => {
  const rssLimit = process.memoryUsage().rss + RSS_SLACK;
  const rng = new Rng(50);
  const tally: Tally = { ok: 0, err: 0 };
  const px = Buffer.alloc(6 * 4 * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 29) & 0xff;
  const raw = { raw: { width: 6, height: 4, channels: 3 as const } };
  const seeds: [string, Buffer][] = [
    ['png', await sharp(px, raw).png().toBuffer()],
    ['png', await sharp(px, raw).greyscale().png({ palette: true }).toBuffer()],
    ['jpg', await sharp(px, raw).jpeg({ quality: 90 }).toBuffer()],
    ['jpg', await sharp(px, raw).jpeg({ progressive: true }).toBuffer()],
  ];
  const root = join(tmp, 'images');
  mkdirSync(join(root, 'k'), { recursive: true });
  const good = join(root, 'k', 'a-good.png');
  writeFileSync(good, seeds[0]![1]);
  for (let i = 0; i < CASES; i++) {
    const [ext, seed] = seeds[rng.int(seeds.length)]!;
    // PNG IHDR width/height at 16/20; JPEG SOF dimensions sit further in, reached by the generic mutations.
    const bytes = mutate(rng, seed, ext === 'png' ? [16, 20] : [0]);
    const path = join(root, 'k', `case.${ext}`);
    rmSync(join(root, 'k', 'case.png'), { force: true });
    rmSync(join(root, 'k', 'case.jpg'), { force: true });
    writeFileSync(path, bytes);
    // The mutated image alone (it is the first image: without a size, its header sizes the dataset)
    // or after a good one; with or without a size.
    const alone = rng.int(2) === 0;
    rmSync(good, { force: true });
    if (!alone) writeFileSync(good, seeds[0]![1]);
    const size = rng.int(2) ? ([4, 6] as [number, number]) : undefined;
    await check(tally, `image case ${i} (${ext})`, [path], async () => consistent(await loadImageFolder(root, { size, concurrency: 1 })), rssLimit);
  }
  t.diagnostic(`images: ${tally.ok} loaded, ${tally.err} refused`);
  assert.ok(tally.ok > 0 && tally.err > 0, JSON.stringify(tally));
});
