// The safetensors format (https://github.com/huggingface/safetensors): 8-byte little-endian header
// length N, N bytes of JSON header (space-padded to a multiple of 8), then the raw tensor bytes.
// Written the way the reference implementation writes it: tensors ordered by dtype (widest first)
// then by name, so every tensor is aligned to its element size.
import { closeSync } from 'node:fs';
import { native } from '../native.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { Tensor } from '../tensor.js';
import { DTYPES } from '../../util/dtypes.js';
import { ST_TO_DTYPE, openFile, parseHeader, readExactly } from '../../io/safetensors_header.js';

export { readSafetensorsHeader, type SafetensorsHeader } from '../../io/safetensors_header.js';

/** The reference implementation's Dtype enum order (it sorts tensors by it, descending). */
const ST_RANK: Record<string, number> = { BOOL: 0, U8: 1, I8: 2, I16: 3, F16: 4, BF16: 5, I32: 6, F32: 7, F64: 8, I64: 9 };

export interface SafetensorsFile { tensors: Record<string, Tensor>; metadata: Record<string, string> }

interface Entry { name: string; st: string; shape: number[]; bytes: Uint8Array }

/**
 * Writes tensors (any device; copied to CPU, contiguous) and optional string metadata to `path`
 * as safetensors, atomically (util/atomic.ts).
 */
export function saveSafetensors(path: string, tensors: Record<string, Tensor>, metadata?: Record<string, string>): void {
  const entries: Entry[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    if (!(t instanceof Tensor)) throw new TypeError(`saveSafetensors: '${name}' is not a Tensor`);
    if (name === '__metadata__') throw new Error("saveSafetensors: '__metadata__' is reserved and cannot name a tensor");
    const st = Object.hasOwn(DTYPES, t.dtype) ? DTYPES[t.dtype].safetensors : undefined;
    if (!st) throw new Error(`saveSafetensors: '${name}' has dtype ${t.dtype}, which safetensors cannot store`);
    entries.push({ name, st, shape: t.shape, bytes: new Uint8Array(native.toBuffer(t.h)) });
  }
  entries.sort((a, b) => (ST_RANK[b.st] - ST_RANK[a.st]) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new TypeError(`saveSafetensors: metadata '${k}' must be a string, got ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.st, shape: e.shape, data_offsets: [offset, offset + e.bytes.length] };
    offset += e.bytes.length;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const extra = (8 - (json.length % 8)) % 8;
  if (extra) json = Buffer.concat([json, Buffer.alloc(extra, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileAtomic(path, [len, json, ...entries.map((e) => e.bytes)]);
}

/** Reads a safetensors file into CPU tensors (in header order) and its metadata. */
export function loadSafetensors(path: string): SafetensorsFile {
  const fd = openFile(path);
  try {
    const { header, metadata, dataStart, fileSize } = parseHeader(fd, path);
    const data = readExactly(fd, fileSize - dataStart, dataStart, path, 'data');
    const tensors: Record<string, Tensor> = {};
    try {
      for (const [name, e] of Object.entries(header)) {
        const [b, end] = e.data_offsets;
        const bytes = new Uint8Array(data.buffer, data.byteOffset + b, end - b);
        if (e.dtype === 'BOOL') {
          const bad = bytes.findIndex((x) => x > 1);
          if (bad >= 0) throw new Error(`loadSafetensors: ${path}: tensor '${name}' is BOOL but its byte ${bad} is ${bytes[bad]} (not 0 or 1)`);
        }
        tensors[name] = new Tensor(native.fromBuffer(bytes, e.shape, ST_TO_DTYPE[e.dtype]));
      }
    } catch (err) {
      for (const t of Object.values(tensors)) t.dispose();
      throw err;
    }
    return { tensors, metadata };
  } finally {
    closeSync(fd);
  }
}
