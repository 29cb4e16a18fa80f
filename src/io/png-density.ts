/**
 * A PNG's pHYs chunk: pixels per unit along x and y, the unit being the metre (1) or
 * unknown (0, an aspect ratio only). Read and written here because sharp reports it as
 * one whole number of dots per inch, which loses the pixel size (0.123 µm is 206504.07
 * dpi), sets one density for both axes, and otherwise writes libvips's default of
 * 1000 pixels per metre, a 1 mm pixel no microscope image has.
 */
import { openRegular } from './input-kind.js';
import { crc32 } from 'node:zlib';
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
const MAX_CHUNKS = 64;

/** The pHYs of the PNG at `path`, or undefined when it has none. */
export async function readPngDensity(path: string): Promise<PngDensity | undefined> {
  const { handle: file } = await openRegular(path);
  try {
    const header = Buffer.alloc(8);
    let position = SIGNATURE_BYTES;
    for (let k = 0; k < MAX_CHUNKS; k++) {
      if ((await file.read(header, 0, 8, position)).bytesRead < 8) return undefined;
      const length = header.readUInt32BE(0);
      const type = header.toString('latin1', 4, 8);
      if (type === 'IDAT' || type === 'IEND') return undefined;
      if (type === 'pHYs' && length === 9) {
        const data = Buffer.alloc(9);
        if ((await file.read(data, 0, 9, position + 8)).bytesRead < 9) return undefined;
        return { x: data.readUInt32BE(0), y: data.readUInt32BE(4), unit: data[8] };
      }
      position += 12 + length; // length, type, data, CRC
    }
    return undefined;
  } finally {
    await file.close();
  }
}

/**
 * `png` with its pHYs saying `size` (whole pixels per metre), or, without a size, only
 * that pixels are square (unit 0): never a made-up calibration.
 */
export function withPngDensity(png: Buffer, size: PixelSize | undefined): Buffer {
  const chunk = Buffer.alloc(21);
  chunk.writeUInt32BE(9, 0);
  chunk.write('pHYs', 4, 'latin1');
  chunk.writeUInt32BE(size ? Math.round(1e6 / size.x) : 1, 8);
  chunk.writeUInt32BE(size ? Math.round(1e6 / size.y) : 1, 12);
  chunk[16] = size ? 1 : 0;
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 17)), 17);
  let at = SIGNATURE_BYTES;
  for (let k = 0; k < MAX_CHUNKS && at + 8 <= png.length; k++) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    if (type === 'IDAT') break;
    if (type === 'pHYs') return Buffer.concat([png.subarray(0, at), chunk, png.subarray(at + 12 + length)]);
    at += 12 + length;
  }
  return Buffer.concat([png.subarray(0, AFTER_IHDR), chunk, png.subarray(AFTER_IHDR)]);
}
