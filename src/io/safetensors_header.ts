// The safetensors header (format: 8-byte little-endian length N, N bytes of JSON, the tensor data),
// read and checked without libtorch: names, dtypes, shapes and offsets, every integer range-checked,
// the tensors tiling the data section exactly. torch/io/safetensors.ts reads the data behind it;
// run folders read checkpoint metadata through it alone.
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { DTYPES, DTYPE_NAMES, type Dtype } from '../util/dtypes.js';

/** The dtypes by their safetensors code (from the one dtype table, util/dtypes.ts). */
export const ST_TO_DTYPE: Record<string, Dtype> = Object.fromEntries(DTYPE_NAMES.map((d) => [DTYPES[d].safetensors, d]));
/** Known to the format but not to libtorch 1.13 / csgnet: named in errors. */
const UNSUPPORTED = new Set(['U16', 'U32', 'U64', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'C64']);
const MAX_HEADER = 100_000_000;
/** More dimensions than any framework allows (PyTorch: 64). */
const MAX_DIMS = 64;

export interface SafetensorsHeader {
  header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  metadata: Record<string, string>;
  dataStart: number;
  fileSize: number;
}

export function readExactly(fd: number, n: number, pos: number, path: string, what: string): Buffer {
  const b = Buffer.alloc(n);
  let got = 0;
  while (got < n) {
    const r = readSync(fd, b, got, n - got, pos + got);
    if (r === 0) throw new Error(`loadSafetensors: ${path} is truncated (${what}: wanted ${n} bytes at ${pos}, file ends after ${pos + got})`);
    got += r;
  }
  return b;
}

/** Reads only the header: names, dtypes (safetensors codes), shapes, offsets, and the metadata. */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const fd = openFile(path);
  try {
    return parseHeader(fd, path);
  } finally {
    closeSync(fd);
  }
}

/** Opens a regular file for reading; errors name the file. */
export function openFile(path: string): number {
  if (!existsSync(path)) throw new Error(`loadSafetensors: no such file: ${path}`);
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    if (!fstatSync(fd).isFile()) throw new Error('not a regular file');
    return fd;
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    throw new Error(`loadSafetensors: cannot read ${path}: ${(e as Error).message}`);
  }
}

export function parseHeader(fd: number, path: string): SafetensorsHeader {
  const fileSize = fstatSync(fd).size;
  if (fileSize < 8) throw new Error(`loadSafetensors: ${path} is truncated (${fileSize} bytes; the 8-byte header length is missing)`);
  const n64 = readExactly(fd, 8, 0, path, 'header length').readBigUInt64LE(0);
  if (n64 > BigInt(MAX_HEADER)) throw new Error(`loadSafetensors: ${path}: header length ${n64} is larger than the ${MAX_HEADER}-byte limit (not a safetensors file?)`);
  const n = Number(n64);
  if (8 + n > fileSize) throw new Error(`loadSafetensors: ${path} is truncated (header says ${n} bytes of JSON, file has ${fileSize - 8} after the length)`);
  const text = readExactly(fd, n, 8, path, 'header').toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`loadSafetensors: ${path}: bad header JSON (${(e as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`loadSafetensors: ${path}: bad header JSON (not an object)`);
  const dataStart = 8 + n;
  const dataLen = fileSize - dataStart;
  const header: SafetensorsHeader['header'] = {};
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(parsed as Record<string, any>)) {
    if (name === '__metadata__') {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
        throw new Error(`loadSafetensors: ${path}: bad header JSON (__metadata__ must map strings to strings)`);
      }
      metadata = v as Record<string, string>;
      continue;
    }
    if (name === '__proto__') throw new Error(`loadSafetensors: ${path}: bad header JSON (a tensor cannot be named '__proto__')`);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`loadSafetensors: ${path}: bad header JSON (entry '${name}' is not an object)`);
    const { dtype, shape, data_offsets: off } = v;
    if (typeof dtype !== 'string' || !Object.hasOwn(ST_TO_DTYPE, dtype)) {
      const why = UNSUPPORTED.has(dtype) ? 'not supported by csgnet' : 'unknown';
      throw new Error(`loadSafetensors: ${path}: tensor '${name}' has ${why} dtype ${JSON.stringify(dtype)} (known: ${Object.keys(ST_TO_DTYPE).join(', ')})`);
    }
    if (!Array.isArray(shape) || shape.length > MAX_DIMS || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      throw new Error(`loadSafetensors: ${path}: tensor '${name}' has a bad shape ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(off) || off.length !== 2 || off.some((d) => !Number.isSafeInteger(d) || d < 0) || off[0] > off[1]) {
      throw new Error(`loadSafetensors: ${path}: tensor '${name}' has bad data_offsets ${JSON.stringify(off)}`);
    }
    if (off[1] > dataLen) {
      throw new Error(`loadSafetensors: ${path}: tensor '${name}' data_offsets [${off}] are out of range (the data section has ${dataLen} bytes; truncated file?)`);
    }
    // Exact (bigint) size: large dimensions must not round, overflow to Infinity or give NaN with a 0.
    const need = shape.reduce((a: bigint, b: number) => a * BigInt(b), 1n) * BigInt(DTYPES[ST_TO_DTYPE[dtype]].itemSize);
    if (BigInt(off[1] - off[0]) !== need) {
      throw new Error(`loadSafetensors: ${path}: tensor '${name}' spans ${off[1] - off[0]} bytes but ${dtype} [${shape}] needs ${need}`);
    }
    header[name] = { dtype, shape, data_offsets: [off[0], off[1]] };
  }
  // As the reference implementation: the tensors tile the data section, without holes or overlaps.
  const spans = Object.entries(header).map(([name, e]) => ({ name, b: e.data_offsets[0], e: e.data_offsets[1] }))
    .sort((x, y) => x.b - y.b || x.e - y.e);
  let end = 0;
  for (const sp of spans) {
    if (sp.b !== end) {
      throw new Error(`loadSafetensors: ${path}: tensor '${sp.name}' starts at byte ${sp.b} of the data section, expected ${end} (${sp.b < end ? 'it overlaps another tensor' : 'a hole before it'})`);
    }
    end = sp.e;
  }
  if (end !== dataLen) throw new Error(`loadSafetensors: ${path}: the tensors cover ${end} bytes but the data section has ${dataLen} (trailing data or a missing tensor)`);
  return { header, metadata, dataStart, fileSize };
}
