// NumPy .npy files: read format versions 1.0, 2.0 and 3.0, write 1.0 (2.0 only if the header needs it).
// Little-endian, C-order arrays of <f4, <f8, <i8, <i4, <i2, |i1, |u1 and |b1 (booleans come back as a Uint8Array
// of 0/1 with dtype '|b1'). Anything else (Fortran order, big-endian, other dtypes, truncated data) is
// refused with an Error naming the file and the problem.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.js';
import { DTYPES, DTYPE_NAMES, dtypeOfArray, type TypedArray, type TypedArrayCtor } from '../util/dtypes.js';

export type NpyData = TypedArray;

export interface NpyArray {
  data: NpyData;
  shape: number[];
  /** The dtype descriptor as written in the file: '<f4', '<f8', '<i8', '<i4', '<i2', '|i1', '|u1' or '|b1'. */
  dtype: string;
}

/** Descriptor -> typed array, for the dtypes of the one table (util/dtypes.ts) that JS can hold. */
const NPY: Record<string, TypedArrayCtor> = Object.fromEntries(
  DTYPE_NAMES.filter((d) => DTYPES[d].npy && DTYPES[d].array).map((d) => [DTYPES[d].npy!, DTYPES[d].array!]));
// descriptors NumPy may also use for the same single-byte types
const ALIASES: Record<string, string> = { '<u1': '|u1', u1: '|u1', '<b1': '|b1', b1: '|b1', '<i1': '|i1', i1: '|i1' };

/** NumPy refuses headers longer than this by default (numpy.lib.format, max_header_size); every simple
 *  dtype's header is far shorter, so a longer one is a corrupt or hostile file. */
const MAX_HEADER = 10000;
/** NumPy 2's maximum number of dimensions. */
const MAX_DIMS = 64;

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

function fail(path: string, msg: string): never {
  throw new Error(`npy: ${path}: ${msg}`);
}

/** Parses the Python-literal header dict {'descr': ..., 'fortran_order': ..., 'shape': (...), }. */
function parseHeader(path: string, header: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr) fail(path, `header has no simple 'descr' (structured or unsupported dtype): ${header.trim()}`);
  if (!fortran || !shape) fail(path, `malformed header: ${header.trim()}`);
  const dims = shape[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const v = Number(s.replace(/L$/, ''));
      if (!/^\d+L?$/.test(s) || !Number.isSafeInteger(v)) fail(path, `bad shape entry '${s}' in header`);
      return v;
    });
  if (dims.length > MAX_DIMS) fail(path, `shape has ${dims.length} dimensions, more than NumPy's ${MAX_DIMS}`);
  return { descr: descr[1], fortran: fortran[1] === 'True', shape: dims };
}

/** Reads a .npy file. */
export function readNpy(path: string): NpyArray {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    fail(path, code === 'ENOENT' ? 'no such file' : `cannot read (${(e as Error).message})`);
  }
  if (buf.length < 6 || !buf.subarray(0, 6).equals(MAGIC)) fail(path, 'not a .npy file (bad magic string)');
  if (buf.length < 10) fail(path, `truncated header (${buf.length} bytes)`);
  const major = buf[6], minor = buf[7];
  let headerLen: number, headerStart: number;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) fail(path, 'truncated header');
    headerLen = buf.readUInt32LE(8);
    headerStart = 12;
  } else {
    fail(path, `unsupported format version ${major}.${minor}`);
  }
  if (headerLen > MAX_HEADER) fail(path, `header length ${headerLen} is larger than the ${MAX_HEADER}-byte limit NumPy itself applies (corrupt file?)`);
  const dataStart = headerStart + headerLen;
  if (buf.length < dataStart) fail(path, `truncated header (file has ${buf.length} bytes, header ends at ${dataStart})`);
  const header = buf.subarray(headerStart, dataStart).toString(major === 3 ? 'utf8' : 'latin1');
  const h = parseHeader(path, header);
  const descr = Object.hasOwn(ALIASES, h.descr) ? ALIASES[h.descr] : h.descr;
  if (h.fortran) fail(path, 'Fortran-ordered arrays are not supported (save a C-ordered array)');
  if (descr.startsWith('>')) fail(path, `big-endian dtype '${h.descr}' is not supported`);
  const ctor = Object.hasOwn(NPY, descr) ? NPY[descr] : undefined;
  if (!ctor) fail(path, `unsupported dtype '${h.descr}' (supported: ${Object.keys(NPY).join(', ')})`);
  // Exact (bigint) size: a product of large dimensions must not round or overflow to Infinity/NaN.
  const exact = h.shape.reduce((a, b) => a * BigInt(b), 1n) * BigInt(ctor.BYTES_PER_ELEMENT);
  const have = buf.length - dataStart;
  if (BigInt(have) < exact) fail(path, `truncated data: shape (${h.shape.join(', ')}) of ${descr} needs ${exact} bytes, file has ${have}`);
  if (BigInt(have) > exact) fail(path, `${BigInt(have) - exact} bytes of trailing data after the ${exact} bytes that shape (${h.shape.join(', ')}) of ${descr} needs`);
  const bytes = Number(exact);
  const count = bytes / ctor.BYTES_PER_ELEMENT;
  // copy into a fresh, aligned buffer
  const ab = new ArrayBuffer(bytes);
  new Uint8Array(ab).set(buf.subarray(dataStart, dataStart + bytes));
  const data = new ctor(ab, 0, count);
  if (descr === '|b1') {
    for (let i = 0; i < data.length; i++) if ((data as Uint8Array)[i] > 1) fail(path, `boolean entry ${i} is ${(data as Uint8Array)[i]}`);
  }
  return { data, shape: h.shape, dtype: descr };
}

function descrOf(data: NpyData, dtype?: string): string {
  if (dtype === '|b1' || dtype === 'bool') {
    if (!(data instanceof Uint8Array)) throw new TypeError("npy: dtype '|b1' needs a Uint8Array of 0/1");
    return '|b1';
  }
  if (!ArrayBuffer.isView(data)) throw new TypeError('npy: unsupported array type');
  return DTYPES[dtypeOfArray(data)].npy!;
}

/**
 * Writes `data` with `shape` (C order) as a version 1.0 .npy file, atomically (writeFileAtomic: a temp
 * file in the same folder, fsync, rename). `dtype: '|b1'` stores a Uint8Array as booleans.
 */
export function writeNpy(path: string, data: NpyData, shape: readonly number[], opts: { dtype?: string } = {}): void {
  const descr = descrOf(data, opts.dtype);
  for (const d of shape) if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`npy: ${path}: bad shape (${shape.join(', ')})`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new RangeError(`npy: ${path}: shape (${shape.join(', ')}) has ${count} elements, data has ${data.length}`);
  if (descr === '|b1') for (let i = 0; i < data.length; i++) if ((data as Uint8Array)[i] > 1) throw new RangeError(`npy: ${path}: boolean entry ${i} is ${data[i]}`);
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  // pad with spaces so that magic + version + length + header (ending in \n) is a multiple of 64
  let major = 1;
  let pre = 10;
  let total = Math.ceil((pre + header.length + 1) / 64) * 64;
  if (total - pre > 0xffff) {
    major = 2;
    pre = 12;
    total = Math.ceil((pre + header.length + 1) / 64) * 64;
  }
  header = header + ' '.repeat(total - pre - header.length - 1) + '\n';
  const head = Buffer.alloc(pre);
  MAGIC.copy(head, 0);
  head[6] = major;
  head[7] = 0;
  if (major === 1) head.writeUInt16LE(header.length, 8);
  else head.writeUInt32LE(header.length, 8);
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  writeFileAtomic(path, [head, Buffer.from(header, 'latin1'), body]);
}
