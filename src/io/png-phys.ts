/**
 * A PNG's pHYs chunk over bytes in memory (png-density.ts says why unetflow reads and
 * writes it itself): shared by Node's writer and the page's, which has no node:zlib.
 */
import type { PixelSize } from '../image/pixel-size.js';

export interface PngDensity {
  readonly x: number;
  readonly y: number;
  readonly unit: number;
}

const SIGNATURE_BYTES = 8;
/** The signature, then IHDR (13 bytes of data): where a new pHYs goes. */
const AFTER_IHDR = SIGNATURE_BYTES + 12 + 13;
/** pHYs precedes the first IDAT; a file with neither in this many chunks has none worth finding. */
export const MAX_CHUNKS = 64;

/** The pHYs of a PNG held in memory, or undefined when it has none. */
export function pngDensityOf(png: Uint8Array): PngDensity | undefined {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let at = SIGNATURE_BYTES;
  for (let k = 0; k < MAX_CHUNKS && at + 8 <= png.length; k++) {
    const length = view.getUint32(at);
    const type = chunkType(png, at);
    if (type === 'IDAT' || type === 'IEND') return undefined;
    if (type === 'pHYs' && length === 9) return at + 17 <= png.length ? { x: view.getUint32(at + 8), y: view.getUint32(at + 12), unit: png[at + 16] } : undefined;
    at += 12 + length; // length, type, data, CRC
  }
  return undefined;
}

/**
 * `png` with its pHYs saying `size` (whole pixels per metre), or, without a size, only
 * that pixels are square (unit 0): never a made-up calibration.
 */
export function withPngDensityBytes(png: Uint8Array, size: PixelSize | undefined): Uint8Array {
  const chunk = new Uint8Array(21);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, 9);
  chunk.set([0x70, 0x48, 0x59, 0x73], 4); // pHYs
  view.setUint32(8, size ? Math.round(1e6 / size.x) : 1);
  view.setUint32(12, size ? Math.round(1e6 / size.y) : 1);
  chunk[16] = size ? 1 : 0;
  view.setUint32(17, crc32(chunk.subarray(4, 17)));
  const png32 = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let at = SIGNATURE_BYTES;
  for (let k = 0; k < MAX_CHUNKS && at + 8 <= png.length; k++) {
    const length = png32.getUint32(at);
    const type = chunkType(png, at);
    if (type === 'IDAT') break;
    if (type === 'pHYs') return concat(png.subarray(0, at), chunk, png.subarray(at + 12 + length));
    at += 12 + length;
  }
  return concat(png.subarray(0, AFTER_IHDR), chunk, png.subarray(AFTER_IHDR));
}

function chunkType(png: Uint8Array, at: number): string {
  return String.fromCharCode(png[at + 4], png[at + 5], png[at + 6], png[at + 7]);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, at), (at += p.length);
  return out;
}

let table: Uint32Array | undefined;

/** The CRC-32 of PNG chunks (ISO 3309, as zlib's crc32). */
export function crc32(bytes: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const b of bytes) crc = table[(crc ^ b) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
