// MNIST / Fashion-MNIST reader for the idx file format (http://yann.lecun.com/exdb/mnist/).
//
// idx header: 2 zero bytes, a dtype byte (0x08 = unsigned byte), a dimension-count byte,
// then one big-endian uint32 per dimension, then the data. Images are idx3 (magic
// 0x00000803: N, rows, cols), labels idx1 (magic 0x00000801: N). Files may be gzipped
// (detected by the 1f 8b magic, whatever the file name) or plain.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as zlib from 'node:zlib';
import * as buffer from 'node:buffer';
import { toShared, type ImageDataset } from './dataset.js';

export type MnistKind = 'fashion-mnist' | 'mnist';
export type Split = 'train' | 'test';

/** Where Debian's dataset-fashion-mnist package installs the data. */
export const DEFAULT_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];
export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

const STATS: Record<MnistKind, { mean: number; std: number }> = {
  'fashion-mnist': { mean: 0.2860, std: 0.3530 },
  mnist: { mean: 0.1307, std: 0.3081 },
};

const IDX_IMAGES_MAGIC = 0x00000803;
const IDX_LABELS_MAGIC = 0x00000801;

/** Reads a whole regular file; errors name it. */
export function readFileNamed(path: string): Buffer {
  try {
    if (!statSync(path).isFile()) throw new Error('not a regular file');
    return readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
}

const isGzip = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

function gunzipNamed(raw: Uint8Array, path: string, opts: zlib.ZlibOptions = {}): Buffer {
  try {
    return zlib.gunzipSync(raw, opts);
  } catch (e) {
    throw new Error(`${path}: corrupt gzip data (${(e as Error).message})`);
  }
}


export interface IdxArray {
  dims: number[];
  /** The payload bytes (a view into the decoded file). */
  data: Uint8Array;
}

interface IdxHeader { dims: number[]; headerLen: number; /** Data bytes the header announces (exact). */ need: bigint }

function parseIdxHeader(buf: Uint8Array, expectedDims: 1 | 3, path: string): IdxHeader {
  const expectedMagic = expectedDims === 3 ? IDX_IMAGES_MAGIC : IDX_LABELS_MAGIC;
  const what = expectedDims === 3 ? 'idx3 image file' : 'idx1 label file';
  const hex = (v: number) => '0x' + (v >>> 0).toString(16).padStart(8, '0');
  if (buf.length < 4) throw new Error(`${path}: truncated header: ${buf.length} bytes, an ${what} needs at least ${4 + 4 * expectedDims}`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = dv.getUint32(0, false);
  if (buf[0] !== 0 || buf[1] !== 0 || buf[3] !== expectedDims) {
    throw new Error(`${path}: wrong magic number ${hex(magic)}, expected ${hex(expectedMagic)} for an ${what}`);
  }
  if (buf[2] !== 0x08) {
    throw new Error(`${path}: dtype byte is 0x${buf[2]!.toString(16).padStart(2, '0')}, expected 0x08 (unsigned byte); magic ${hex(magic)}, expected ${hex(expectedMagic)}`);
  }
  const headerLen = 4 + 4 * expectedDims;
  if (buf.length < headerLen) throw new Error(`${path}: truncated header: ${buf.length} bytes, an ${what} needs ${headerLen}`);
  const dims: number[] = [];
  for (let i = 0; i < expectedDims; i++) dims.push(dv.getUint32(4 + 4 * i, false));
  for (let i = 1; i < dims.length; i++) if (dims[i] === 0) throw new Error(`${path}: dimension ${i} is 0 in the header (${dims.join('x')})`);
  // Exact: three uint32 dimensions can multiply past 2^53.
  const need = dims.reduce((a, b) => a * BigInt(b), 1n);
  return { dims, headerLen, need };
}

/** Parses an unsigned-byte idx file with the given number of dimensions. `path` is used in errors. */
export function parseIdx(buf: Uint8Array, expectedDims: 1 | 3, path: string): IdxArray {
  const { dims, headerLen, need } = parseIdxHeader(buf, expectedDims, path);
  const have = BigInt(buf.length - headerLen);
  if (have < need) throw new Error(`${path}: truncated data: header says ${dims.join('x')} = ${need} bytes but only ${have} are present`);
  if (have > need) throw new Error(`${path}: ${have - need} bytes of trailing garbage after the ${dims.join('x')} = ${need} data bytes the header announces`);
  return { dims, data: buf.subarray(headerLen, headerLen + Number(need)) };
}

/** Decompressed bytes allowed past the announced size (so that small trailing garbage is counted). */
const SLACK = 65536;

/**
 * Reads and parses an idx file, gzipped or plain. A gzip stream is decompressed only as far as its
 * header announces (plus 64 KiB, to count trailing garbage), so a small file cannot decompress into
 * gigabytes (a "gzip bomb" or a header announcing more than is there).
 */
export function readIdxFile(path: string, expectedDims: 1 | 3): IdxArray {
  const raw = readFileNamed(path);
  if (!isGzip(raw)) return parseIdx(raw, expectedDims, path);
  // The header first, from a short prefix of the stream (256 compressed bytes inflate to at most
  // ~260 KB); a longer prefix only while the gzip header's optional fields hide the idx header.
  let head: Buffer;
  for (let take = 256; ; take *= 16) {
    head = gunzipNamed(raw.subarray(0, take), path, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    if (head.length >= 4 + 4 * expectedDims || take >= raw.length) break;
  }
  const { dims, headerLen, need } = parseIdxHeader(head, expectedDims, path);
  const total = BigInt(headerLen) + need;
  if (total + BigInt(SLACK) > BigInt(buffer.constants.MAX_LENGTH)) {
    throw new Error(`${path}: header says ${dims.join('x')} = ${need} bytes, more than one file can hold here (corrupt header?)`);
  }
  let buf: Buffer;
  try {
    buf = zlib.gunzipSync(raw, { maxOutputLength: Number(total) + SLACK });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new Error(`${path}: trailing garbage: the gzip stream holds over ${SLACK} bytes more than the ${dims.join('x')} = ${need} data bytes the header announces`);
    }
    throw new Error(`${path}: corrupt gzip data (${(e as Error).message})`);
  }
  return parseIdx(buf, expectedDims, path);
}

/** Finds `<base>.gz` or `<base>` in dir; throws a clear error naming both if neither exists. */
function findIdxFile(dir: string, base: string, kind: MnistKind): string {
  for (const name of [base + '.gz', base]) {
    const p = join(dir, name);
    if (existsSync(p) && statSync(p).isFile()) return p;
  }
  let msg = `${kind}: ${base}.gz (or ${base}) not found in ${dir} (--data-root)`;
  if (!existsSync(dir)) msg += ` (the folder does not exist)`;
  if (resolve(dir) === DEFAULT_FASHION_MNIST_DIR) msg += `; the Debian package dataset-fashion-mnist provides it: apt-get install dataset-fashion-mnist`;
  throw new Error(msg);
}

/**
 * Loads an MNIST-format split from `dir` (files train-images-idx3-ubyte[.gz],
 * train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]).
 * For Fashion-MNIST `dir` defaults to /usr/share/datasets/fashion-mnist.
 */
export function loadMnistLike(dir: string | undefined, split: Split, kind: MnistKind): ImageDataset {
  if (split !== 'train' && split !== 'test') throw new Error(`${kind}: split must be 'train' or 'test', got ${JSON.stringify(split)}`);
  if (kind !== 'fashion-mnist' && kind !== 'mnist') throw new Error(`unknown MNIST-like dataset kind ${JSON.stringify(kind)} (known: fashion-mnist, mnist)`);
  if (dir === undefined) {
    if (kind !== 'fashion-mnist') throw new Error(`${kind}: no data folder given (pass the folder holding ${split === 'train' ? 'train' : 't10k'}-images-idx3-ubyte.gz with --data-root)`);
    dir = DEFAULT_FASHION_MNIST_DIR;
  }
  const prefix = split === 'train' ? 'train' : 't10k';
  const imgPath = findIdxFile(dir, `${prefix}-images-idx3-ubyte`, kind);
  const lblPath = findIdxFile(dir, `${prefix}-labels-idx1-ubyte`, kind);
  const img = readIdxFile(imgPath, 3);
  const lbl = readIdxFile(lblPath, 1);
  const [n, h, w] = img.dims as [number, number, number];
  if (n === 0) throw new Error(`${kind} ${split}: ${imgPath} holds no images (0 in its header); check --data-root`);
  if (lbl.dims[0] !== n) throw new Error(`${kind} ${split}: ${imgPath} holds ${n} images but ${lblPath} holds ${lbl.dims[0]} labels`);
  const classNames = kind === 'fashion-mnist' ? FASHION_MNIST_CLASSES : MNIST_CLASSES;
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const l = lbl.data[i]!;
    if (l >= classNames.length) throw new Error(`${lblPath}: label ${l} of sample ${i} is out of range (${kind} has ${classNames.length} classes)`);
    labels[i] = l;
  }
  // Copy into a tightly sized shared array so the decoded file buffer can be freed.
  const images = toShared(img.data);
  const { mean, std } = STATS[kind];
  return {
    name: kind, numClasses: classNames.length, classNames: [...classNames],
    channels: 1, height: h, width: w, length: n, images, labels, mean: [mean], std: [std],
  };
}
