/**
 * A PNG's pHYs chunk: pixels per unit along x and y, the unit being the metre (1) or
 * unknown (0, an aspect ratio only). Read and written here because sharp reports it as
 * one whole number of dots per inch, which loses the pixel size (0.123 µm is 206504.07
 * dpi), sets one density for both axes, and otherwise writes libvips's default of
 * 1000 pixels per metre, a 1 mm pixel no microscope image has.
 */
import { openRegular } from './input-kind.js';
import type { PixelSize } from '../image/pixel-size.js';
import { MAX_CHUNKS, withPngDensityBytes, type PngDensity } from './png-phys.js';

export type { PngDensity } from './png-phys.js';

const SIGNATURE_BYTES = 8;

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

/** `png` with its pHYs saying `size` (png-phys.ts). */
export function withPngDensity(png: Buffer, size: PixelSize | undefined): Buffer {
  const out = withPngDensityBytes(png, size);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}
