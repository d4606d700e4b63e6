// A small, strict BMP reader (sharp's libvips build here does not decode BMP): uncompressed 8-bit
// (palette), 24-bit (BGR) and 32-bit (BGRX / BGRA, BI_RGB or BI_BITFIELDS with the standard masks)
// images with a BITMAPINFOHEADER or a later (V4, V5) header, bottom-up or top-down rows. Anything
// else (RLE, 1/4/16-bit, OS/2 core headers, truncated data) is an error that names the file.
//
// 8-bit images decode to their palette indices (what PIL's mode 'P' and numpy give: a mask written
// with a palette reads as its index values); 24- and 32-bit ones to RGB (alpha dropped).
import { readFileSync } from 'node:fs';

export interface BmpImage {
  width: number;
  height: number;
  /** 1 (8-bit palette indices) or 3 (RGB). */
  channels: 1 | 3;
  /** height*width*channels bytes, rows top to bottom, HWC. */
  data: Uint8Array;
  /** 8-bit images: the palette as RGB triples. */
  palette?: Uint8Array;
}

/** Largest image decoded (pixels), as for the other image readers. */
export const MAX_BMP_PIXELS = 1 << 26;

/** Decodes BMP bytes; `name` (the file) is used in errors. */
export function decodeBmp(buf: Uint8Array, name: string): BmpImage {
  const fail = (msg: string): never => { throw new Error(`${name}: ${msg}`); };
  if (buf.length < 54) fail(`not a BMP file: ${buf.length} bytes, a BMP header needs 54`);
  if (buf[0] !== 0x42 || buf[1] !== 0x4d) fail(`not a BMP file (magic ${buf[0]?.toString(16)} ${buf[1]?.toString(16)}, expected 'BM')`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const offset = dv.getUint32(10, true);
  const dib = dv.getUint32(14, true);
  if (dib !== 40 && dib !== 52 && dib !== 56 && dib !== 108 && dib !== 124) fail(`unsupported BMP header of ${dib} bytes (BITMAPINFOHEADER 40, V4 108 or V5 124 expected)`);
  if (14 + dib > buf.length) fail(`truncated BMP header (${buf.length} bytes, header needs ${14 + dib})`);
  const width = dv.getInt32(18, true), rawHeight = dv.getInt32(22, true);
  const planes = dv.getUint16(26, true), bpp = dv.getUint16(28, true), compression = dv.getUint32(30, true);
  const colorsUsed = dv.getUint32(46, true);
  const height = Math.abs(rawHeight), topDown = rawHeight < 0;
  if (width <= 0 || height <= 0) fail(`bad BMP size ${width}x${rawHeight}`);
  if (width * height > MAX_BMP_PIXELS) fail(`BMP of ${width}x${height} is too large (more than ${MAX_BMP_PIXELS} pixels)`);
  if (planes !== 1) fail(`BMP planes must be 1, got ${planes}`);
  if (bpp !== 8 && bpp !== 24 && bpp !== 32) fail(`unsupported BMP bit depth ${bpp} (8, 24 or 32 supported)`);
  if (compression === 3) {
    // BI_BITFIELDS: accepted only for 32-bit with the standard BGRX layout.
    // The masks follow a 40-byte header and sit at the same place inside a V2+ one.
    const masks = buf.length >= 66 ? [dv.getUint32(54, true), dv.getUint32(58, true), dv.getUint32(62, true)] : [];
    if (bpp !== 32 || masks[0] !== 0x00ff0000 || masks[1] !== 0x0000ff00 || masks[2] !== 0x000000ff) fail('unsupported BMP bit fields (only 32-bit BGRX is supported)');
  } else if (compression !== 0) {
    fail(`compressed BMP (compression ${compression}) is not supported; only uncompressed BMP is`);
  }
  let palette: Uint8Array | undefined;
  if (bpp === 8) {
    const n = colorsUsed === 0 ? 256 : colorsUsed;
    if (n > 256) fail(`BMP palette of ${n} colours (at most 256 for 8-bit)`);
    const at = 14 + dib;
    if (at + 4 * n > offset || at + 4 * n > buf.length) fail(`truncated BMP palette (${n} colours)`);
    palette = new Uint8Array(3 * n);
    for (let i = 0; i < n; i++) { palette[3 * i] = buf[at + 4 * i + 2]!; palette[3 * i + 1] = buf[at + 4 * i + 1]!; palette[3 * i + 2] = buf[at + 4 * i]!; }
  }
  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  if (offset < 14 + dib) fail(`BMP pixel data offset ${offset} lies inside the header`);
  if (offset + stride * height > buf.length) fail(`truncated BMP pixel data: ${width}x${height} at ${bpp} bits needs ${stride * height} bytes from offset ${offset}, the file has ${buf.length - Math.min(offset, buf.length)}`);
  const channels = bpp === 8 ? 1 : 3;
  const data = new Uint8Array(width * height * channels);
  const bytes = bpp / 8;
  for (let y = 0; y < height; y++) {
    const src = offset + (topDown ? y : height - 1 - y) * stride;
    const dst = y * width * channels;
    if (bpp === 8) {
      for (let x = 0; x < width; x++) {
        const v = buf[src + x]!;
        if (v >= palette!.length / 3) fail(`BMP pixel (${x}, ${y}) uses colour ${v} of a ${palette!.length / 3}-colour palette`);
        data[dst + x] = v;
      }
    } else {
      for (let x = 0; x < width; x++) {
        const s = src + x * bytes, d = dst + 3 * x;
        data[d] = buf[s + 2]!; data[d + 1] = buf[s + 1]!; data[d + 2] = buf[s]!;
      }
    }
  }
  const out: BmpImage = { width, height, channels, data };
  if (palette) out.palette = palette;
  return out;
}

/** Reads and decodes a BMP file; errors name it. */
export function readBmp(path: string): BmpImage {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  return decodeBmp(buf, path);
}
